import { describe, expect, it } from 'vitest';
import { expandHostlist } from '../../../src/resource/slurm/hostlist.js';

describe('SLURM host lists', () => {
  it('expands plain names, ranges, singles and padding', () => {
    expect(expandHostlist('node1')).toEqual(['node1']);
    expect(expandHostlist('node[1-3]')).toEqual(['node1', 'node2', 'node3']);
    expect(expandHostlist('nid[008-011,020]')).toEqual([
      'nid008',
      'nid009',
      'nid010',
      'nid011',
      'nid020'
    ]);
    expect(expandHostlist('node[9-10]')).toEqual(['node9', 'node10']);
  });

  it('expands lists of items and several brackets in one item, in order', () => {
    expect(expandHostlist('login1,node[2-3],gpu05')).toEqual(['login1', 'node2', 'node3', 'gpu05']);
    expect(expandHostlist('rack[1-2]-n[1-2]')).toEqual([
      'rack1-n1',
      'rack1-n2',
      'rack2-n1',
      'rack2-n2'
    ]);
  });

  it('refuses malformed lists, naming them', () => {
    expect(() => expandHostlist('node[1-3')).toThrow(
      /"node\[1-3" is malformed \(an unclosed bracket\)/
    );
    expect(() => expandHostlist('node[3-1]')).toThrow(/runs backwards/);
    expect(() => expandHostlist('node[a-b]')).toThrow(/is not N or N-M/);
    expect(() => expandHostlist('node[[1]]')).toThrow(/nested/);
  });
});
