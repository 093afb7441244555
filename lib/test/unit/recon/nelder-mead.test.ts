import { describe, expect, it } from 'vitest';
import { nelderMead } from '../../../src/recon/nelder-mead.js';

// Expected values: scipy 1.17 scipy.optimize.minimize(f, x0, method='Nelder-Mead', ...) with the
// same functions, computed once and pasted here (x, fun, nfev, nit and the first points tried).

const rosenbrock = ([x, y]: number[]) => 100 * (y - x * x) ** 2 + (1 - x) ** 2;

function recording(f: (x: number[]) => number) {
  const calls: number[][] = [];
  return { calls, cost: (x: number[]) => (calls.push(x), f(x)) };
}

describe('nelderMead (scipy minimize Nelder-Mead)', () => {
  it('visits the same points as scipy from init 48 with tol 0.5 (find_center settings)', () => {
    const { calls, cost } = recording(([x]) => (x - 51.5) ** 2 / 10);
    const result = nelderMead(cost, [48], { xatol: 0.5, fatol: 0.5 });
    expect(calls.slice(0, 8).map(([x]) => x)).toEqual([
      48.0, 50.400000000000006, 52.80000000000001, 51.60000000000001, 52.80000000000001,
      51.00000000000001, 52.20000000000001, 51.30000000000001
    ]);
    expect(result.x).toEqual([51.60000000000001]);
    expect(result.value).toBeCloseTo(0.0010000000000001705, 15);
    expect(result.evaluations).toBe(8);
    expect(result.iterations).toBe(4);
    expect(result.converged).toBe(true);
  });

  it('starts from 0.00025 when x0 is 0 (and then already meets a loose tolerance)', () => {
    const result = nelderMead(([x]) => (x - 3.7) ** 2, [0], { xatol: 0.5, fatol: 0.5 });
    expect(result.x).toEqual([0.00025]);
    expect(result.evaluations).toBe(2);
    expect(result.iterations).toBe(1);
  });

  it('matches scipy with default tolerances on a bumpy 1-D function', () => {
    const result = nelderMead(([x]) => Math.abs(x - 2.5) + 0.1 * Math.cos(3 * x), [1]);
    expect(result.x[0]).toBeCloseTo(2.5000000000000036, 12);
    expect(result.value).toBeCloseTo(0.03466353178350514, 12);
    expect(result.evaluations).toBe(36);
    expect(result.iterations).toBe(18);
  });

  it('matches scipy on Rosenbrock in 2-D', () => {
    const { calls, cost } = recording(rosenbrock);
    const result = nelderMead(cost, [-1.2, 1]);
    expect(calls.slice(0, 4)).toEqual([
      [-1.2, 1.0],
      [-1.26, 1.0],
      [-1.2, 1.05],
      [-1.14, 1.0499999999999998]
    ]);
    expect(result.x[0]).toBeCloseTo(1.0000220217835696, 12);
    expect(result.x[1]).toBeCloseTo(1.0000422197517715, 12);
    expect(result.evaluations).toBe(159);
    expect(result.iterations).toBe(85);
    expect(result.converged).toBe(true);
  });

  it('stops at the evaluation and iteration limits as scipy does', () => {
    const byEvaluations = nelderMead(rosenbrock, [-1.2, 1], { maxEvaluations: 50 });
    expect(byEvaluations.x[0]).toBeCloseTo(-0.1432260704040481, 12);
    expect(byEvaluations.x[1]).toBeCloseTo(0.03051691055297004, 12);
    expect(byEvaluations.evaluations).toBe(50);
    expect(byEvaluations.converged).toBe(false);

    const byIterations = nelderMead(rosenbrock, [-1.2, 1], { maxIterations: 30 });
    expect(byIterations.x[0]).toBeCloseTo(0.0958748674392781, 12);
    expect(byIterations.x[1]).toBeCloseTo(-0.01650817394257719, 12);
    expect(byIterations.evaluations).toBe(57);
    expect(byIterations.iterations).toBe(30);
    expect(byIterations.converged).toBe(false);
  });

  it('passes copies of the vertices to the cost function', () => {
    const result = nelderMead(
      x => {
        const value = (x[0] - 1) ** 2;
        x[0] = 1e9; // must not corrupt the simplex
        return value;
      },
      [3]
    );
    expect(result.x[0]).toBeCloseTo(1, 3);
  });
});
