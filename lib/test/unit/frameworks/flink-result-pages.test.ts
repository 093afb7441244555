import { describe, expect, it } from 'vitest';
import {
  applyChanges,
  parseResultPage,
  rootCauseOf
} from '../../../src/frameworks/flink/result-pages.js';

const columns = [
  { name: 'n', logicalType: { type: 'BIGINT', nullable: false }, comment: null },
  { name: 'total', logicalType: { type: 'INTEGER', nullable: true }, comment: null }
];

describe("the SQL Gateway's result pages", () => {
  it('reads NOT_READY, PAYLOAD and EOS pages', () => {
    expect(
      parseResultPage({
        resultType: 'NOT_READY',
        nextResultUri: '/v4/sessions/s/operations/o/result/0'
      })
    ).toEqual({
      resultType: 'NOT_READY',
      changes: [],
      nextResultUri: '/v4/sessions/s/operations/o/result/0'
    });
    expect(
      parseResultPage({
        resultType: 'PAYLOAD',
        isQueryResult: true,
        jobID: 'd0c47e86364c52c87ac93d1b1c535fd9',
        resultKind: 'SUCCESS_WITH_CONTENT',
        results: { columns, rowFormat: 'JSON', data: [{ kind: 'INSERT', fields: [1, 1] }] },
        nextResultUri: '/v4/sessions/s/operations/o/result/1?rowFormat=JSON'
      })
    ).toEqual({
      resultType: 'PAYLOAD',
      jobId: 'd0c47e86364c52c87ac93d1b1c535fd9',
      resultKind: 'SUCCESS_WITH_CONTENT',
      columns: [
        { name: 'n', type: 'BIGINT', nullable: false },
        { name: 'total', type: 'INTEGER', nullable: true }
      ],
      changes: [{ kind: 'INSERT', fields: [1, 1] }],
      nextResultUri: '/v4/sessions/s/operations/o/result/1?rowFormat=JSON'
    });
    expect(
      parseResultPage({ resultType: 'EOS', results: { columns, rowFormat: 'JSON', data: [] } })
    ).toMatchObject({ resultType: 'EOS', changes: [] });
  });

  it('names what is not a result page', () => {
    expect(() => parseResultPage({ errors: ['x'] })).toThrow(
      /expected a resultType of NOT_READY, PAYLOAD, EOS/
    );
    expect(() =>
      parseResultPage({ resultType: 'PAYLOAD', results: { rowFormat: 'PLAIN_TEXT', data: [] } })
    ).toThrow(/rows as PLAIN_TEXT: expected JSON/);
    expect(() =>
      parseResultPage({
        resultType: 'PAYLOAD',
        results: { data: [{ kind: 'UPSERT', fields: [] }] }
      })
    ).toThrow(/Result row 0 .* expected \{kind: INSERT\|UPDATE_BEFORE\|UPDATE_AFTER\|DELETE/);
  });

  it("applies a streaming aggregate's changelog to its final rows", () => {
    const rows: unknown[][] = [];
    applyChanges(rows, [
      { kind: 'INSERT', fields: [1, 1] },
      { kind: 'UPDATE_BEFORE', fields: [1, 1] },
      { kind: 'UPDATE_AFTER', fields: [2, 3] }
    ]);
    applyChanges(rows, [
      { kind: 'UPDATE_BEFORE', fields: [2, 3] },
      { kind: 'UPDATE_AFTER', fields: [3, 6] },
      { kind: 'INSERT', fields: ['a', null] },
      { kind: 'INSERT', fields: ['a', null] },
      { kind: 'DELETE', fields: ['a', null] }
    ]);
    expect(rows).toEqual([
      [3, 6],
      ['a', null]
    ]);
    expect(() => applyChanges(rows, [{ kind: 'DELETE', fields: [9, 9] }])).toThrow(
      'The result retracts the row [9,9] (DELETE), which it never added'
    );
  });
});

describe("Flink's error answers", () => {
  it('give the root cause of the trace, without the wrappers and frames', () => {
    const trace = [
      '<Exception on server side:',
      'org.apache.flink.table.gateway.api.utils.SqlGatewayException: Failed to fetchResults.',
      '\tat org.apache.flink.table.gateway.rest.handler.statement.FetchResultsHandler.handleRequest(FetchResultsHandler.java:91)',
      "Caused by: org.apache.flink.table.api.ValidationException: SQL validation failed. From line 1, column 15 to line 1, column 27: Object 'no_such_table' not found",
      '\t... 7 more',
      "Caused by: org.apache.calcite.sql.validate.SqlValidatorException: Object 'no_such_table' not found",
      '\tat java.base/jdk.internal.reflect.NativeConstructorAccessorImpl.newInstance0(Native Method)',
      '\t... 34 more',
      '',
      'End of exception on server side>'
    ].join('\n');
    expect(rootCauseOf({ errors: ['Internal server error.', trace] })).toBe(
      "Object 'no_such_table' not found"
    );
  });

  it('keep a message of several lines, and a plain message as it is', () => {
    const trace = [
      'org.apache.flink.table.api.TableException: Cannot plan the query:',
      'the sink has no primary key',
      '\tat org.apache.flink.table.planner.Planner.plan(Planner.java:10)'
    ].join('\n');
    expect(rootCauseOf({ errors: [trace] })).toBe(
      'Cannot plan the query:\nthe sink has no primary key'
    );
    expect(rootCauseOf({ errors: ['Job 1234 not found'] })).toBe('Job 1234 not found');
    expect(rootCauseOf({ errors: [] })).toBeUndefined();
    expect(rootCauseOf('<html>Bad gateway</html>')).toBeUndefined();
  });
});
