import { describe, expect, it } from 'vitest';
import { parseListEndpoints } from '../../../src/frameworks/kafka/membership.js';

describe('parseListEndpoints', () => {
  it('reads the table ClusterTool list-endpoints prints, fenced brokers included', () => {
    const output = [
      'ID         HOST      PORT       RACK       STATE      ENDPOINT_TYPE  ',
      '1          127.0.0.1 44385      null       unfenced   broker         ',
      '4          127.0.0.1 35389      null       fenced     broker         ',
      ''
    ];
    expect(parseListEndpoints(output)).toEqual([
      { id: 1, host: '127.0.0.1', port: 44385, state: 'unfenced' },
      { id: 4, host: '127.0.0.1', port: 35389, state: 'fenced' }
    ]);
  });

  it('skips log lines before the table and fails naming the output when there is none', () => {
    expect(
      parseListEndpoints([
        'WARN something',
        'ID HOST PORT RACK STATE ENDPOINT_TYPE',
        '2 h 9 null unfenced broker'
      ])
    ).toEqual([{ id: 2, host: 'h', port: 9, state: 'unfenced' }]);
    expect(() => parseListEndpoints(['Connection refused'])).toThrow(
      /ClusterTool list-endpoints printed no endpoint table:\nConnection refused/
    );
    expect(() => parseListEndpoints(['ID HOST PORT RACK ENDPOINT_TYPE'])).toThrow(
      /list-endpoints has no STATE column/
    );
  });
});
