/**
 * The Nelder–Mead simplex minimiser exactly as scipy.optimize.minimize(method='Nelder-Mead')
 * runs it (scipy/optimize/_optimize.py, _minimize_neldermead, non-adaptive): the same initial
 * simplex, the same reflection/expansion/contraction/shrink rules and order of evaluations, and
 * the same xatol/fatol test, so a cost function sees the same sequence of points as under scipy.
 */

export interface NelderMeadOptions {
  /** Stop when every vertex is within this of the best one (scipy's xatol, default 1e-4). */
  readonly xatol?: number;
  /** ...and every value within this of the best value (scipy's fatol, default 1e-4). */
  readonly fatol?: number;
  /** Iteration limit; scipy's default is 200 × the number of variables. */
  readonly maxIterations?: number;
  /** Limit on cost evaluations; scipy's default is 200 × the number of variables. */
  readonly maxEvaluations?: number;
}

export interface NelderMeadResult {
  /** The best vertex found. */
  readonly x: number[];
  /** The cost at x. */
  readonly value: number;
  readonly iterations: number;
  readonly evaluations: number;
  /** false when a limit stopped the search before the tolerances were met. */
  readonly converged: boolean;
}

// scipy's coefficients: reflection, expansion, contraction, shrink.
const RHO = 1;
const CHI = 2;
const PSI = 0.5;
const SIGMA = 0.5;
// The initial simplex steps 5 % from x0 along each axis, or 0.00025 where x0 is 0.
const NONZERO_DELTA = 0.05;
const ZERO_DELTA = 0.00025;

class EvaluationLimit extends Error {}

export function nelderMead(
  cost: (x: number[]) => number,
  x0: readonly number[],
  options: NelderMeadOptions = {}
): NelderMeadResult {
  const n = x0.length;
  if (n === 0) throw new RangeError('Nelder–Mead needs at least one variable');
  const xatol = options.xatol ?? 1e-4;
  const fatol = options.fatol ?? 1e-4;
  const maxIterations = options.maxIterations ?? 200 * n;
  const maxEvaluations = options.maxEvaluations ?? 200 * n;

  let evaluations = 0;
  // As scipy's _wrap_scalar_function_maxfun_validation: refuse the call past the limit.
  const evaluate = (x: number[]): number => {
    if (evaluations >= maxEvaluations) throw new EvaluationLimit();
    evaluations++;
    return cost([...x]);
  };

  let simplex: number[][] = [[...x0]];
  for (let k = 0; k < n; k++) {
    const vertex = [...x0];
    vertex[k] = vertex[k] !== 0 ? (1 + NONZERO_DELTA) * vertex[k] : ZERO_DELTA;
    simplex.push(vertex);
  }
  let values: number[] = new Array<number>(n + 1).fill(Infinity);

  // np.argsort (stable for these sizes) with NaN last.
  const sortSimplex = () => {
    const order = values
      .map((value, index) => ({ key: Number.isNaN(value) ? Infinity : value, index }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .map(entry => entry.index);
    simplex = order.map(i => simplex[i]);
    values = order.map(i => values[i]);
  };

  let iterations = 1;
  let converged = false;
  try {
    for (let k = 0; k <= n; k++) values[k] = evaluate(simplex[k]);
  } catch (error) {
    if (!(error instanceof EvaluationLimit)) throw error;
  }
  sortSimplex();

  while (evaluations < maxEvaluations && iterations < maxIterations) {
    const spread = Math.max(
      ...simplex.slice(1).flatMap(vertex => vertex.map((v, j) => Math.abs(v - simplex[0][j])))
    );
    const valueSpread = Math.max(...values.slice(1).map(v => Math.abs(values[0] - v)));
    if (spread <= xatol && valueSpread <= fatol) {
      converged = true;
      break;
    }
    try {
      step();
    } catch (error) {
      if (!(error instanceof EvaluationLimit)) throw error;
    }
    sortSimplex();
    iterations++;
  }

  function step(): void {
    const worst = simplex[n];
    // Centroid of all vertices but the worst.
    const centroid = new Array<number>(n).fill(0);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) centroid[j] += simplex[i][j];
    for (let j = 0; j < n; j++) centroid[j] /= n;
    const along = (coefficient: number) =>
      centroid.map((c, j) => (1 + coefficient) * c - coefficient * worst[j]);

    const reflected = along(RHO);
    const reflectedValue = evaluate(reflected);
    if (reflectedValue < values[0]) {
      const expanded = along(RHO * CHI);
      const expandedValue = evaluate(expanded);
      if (expandedValue < reflectedValue) replaceWorst(expanded, expandedValue);
      else replaceWorst(reflected, reflectedValue);
      return;
    }
    if (reflectedValue < values[n - 1]) {
      replaceWorst(reflected, reflectedValue);
      return;
    }
    if (reflectedValue < values[n]) {
      // Outside contraction.
      const contracted = along(PSI * RHO);
      const contractedValue = evaluate(contracted);
      if (contractedValue <= reflectedValue) {
        replaceWorst(contracted, contractedValue);
        return;
      }
    } else {
      // Inside contraction.
      const contracted = centroid.map((c, j) => (1 - PSI) * c + PSI * worst[j]);
      const contractedValue = evaluate(contracted);
      if (contractedValue < values[n]) {
        replaceWorst(contracted, contractedValue);
        return;
      }
    }
    // Shrink towards the best vertex.
    for (let i = 1; i <= n; i++) {
      simplex[i] = simplex[i].map((v, j) => simplex[0][j] + SIGMA * (v - simplex[0][j]));
      values[i] = evaluate(simplex[i]);
    }
  }

  function replaceWorst(vertex: number[], value: number): void {
    simplex[n] = vertex;
    values[n] = value;
  }

  return { x: simplex[0], value: Math.min(...values), iterations, evaluations, converged };
}
