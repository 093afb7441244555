import { describe, expect, it } from 'vitest';
import { mavenDependency } from '../../../src/frameworks/maven-distribution.js';

describe('a POM dependency', () => {
  it('names the artifact, and excludes everything it depends on only when asked', () => {
    const plain = mavenDependency('org.apache.kafka', 'kafka_2.13', '4.3.1');
    expect(plain).toContain('<artifactId>kafka_2.13</artifactId>');
    expect(plain).toContain('<version>4.3.1</version>');
    expect(plain).not.toContain('<exclusions>');
    const alone = mavenDependency('org.apache.flink', 'flink-sql-gateway', '2.3.0', {
      alone: true
    });
    expect(alone).toMatch(
      /<exclusion>\s*<groupId>\*<\/groupId>\s*<artifactId>\*<\/artifactId>\s*<\/exclusion>/
    );
  });
});
