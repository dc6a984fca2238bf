/**
 * The time an invocation may still spend. Lambda ends an invocation at its deadline without
 * running `finally` blocks, so work stops a margin before it and what was left becomes findings
 * that say where the budget ran out, instead of a Sandbox.Timedout with nothing delivered.
 */

/** Kept back for writing the report and returning (an S3 PUT and the response). */
export const DEFAULT_MARGIN_MS = 20_000;

/**
 * Kept back from the audit, on top of the margin, when one invocation audits AND delivers (the
 * single-process handler): drift, archive and publish of every cluster must still fit.
 */
export const DEFAULT_DELIVER_RESERVE_MS = 30_000;

export interface TimeBudget {
  /** Milliseconds left before the margin. */
  remainingMs(): number;
  exhausted(): boolean;
}

/** Thrown (and caught by the caller) when a phase is cut off by the budget. */
export class BudgetExhausted extends Error {
  override name = 'BudgetExhausted';
  constructor(
    readonly phase: string,
    readonly budgetMs: number,
    /** Replaces the default "ran out during <phase>" wording, e.g. for work never started. */
    message?: string,
  ) {
    super(
      message ??
        `the time budget ran out during ${phase} (${Math.round(budgetMs / 1000)} s available)`,
    );
  }
}

/**
 * From a Lambda context's getRemainingTimeInMillis; without one (CLI, direct calls in tests) the
 * budget never runs out.
 */
export function budgetFrom(
  context: { getRemainingTimeInMillis?(): number } | undefined,
  marginMs = DEFAULT_MARGIN_MS,
): TimeBudget {
  const remaining = context?.getRemainingTimeInMillis?.bind(context);
  if (!remaining) return { remainingMs: () => Number.POSITIVE_INFINITY, exhausted: () => false };
  return {
    remainingMs: () => Math.max(0, remaining() - marginMs),
    exhausted: () => remaining() - marginMs <= 0,
  };
}

/** The same deadline, `ms` earlier: what one phase may use when a later one needs `ms`. */
export function reserve(budget: TimeBudget, ms: number): TimeBudget {
  return {
    remainingMs: () => Math.max(0, budget.remainingMs() - ms),
    exhausted: () => budget.remainingMs() - ms <= 0,
  };
}

/**
 * Resolves with `work` or rejects with BudgetExhausted at the budget, whichever is first. The work
 * is not cancelled (nothing in the collectors can be), only no longer waited for: the caller
 * reports and returns, and Lambda freezes what is left.
 */
export async function withinBudget<T>(
  work: Promise<T>,
  budget: TimeBudget,
  phase: string,
): Promise<T> {
  const ms = budget.remainingMs();
  if (!Number.isFinite(ms)) return work;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BudgetExhausted(phase, ms)), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
