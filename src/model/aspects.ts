// The vocabulary a pack declares what it judges in: the three aspects and the five levels.
export const ASPECTS = ['quality', 'correspondence', 'authenticity'] as const;
export type Aspect = (typeof ASPECTS)[number];

/** The papers' 5-level scale on MOS 0–5: bad < 1 ≤ poor < 2 ≤ fair < 3 ≤ good < 4 ≤ excellent. */
export const LEVELS = ['bad', 'poor', 'fair', 'good', 'excellent'] as const;
export type Level = (typeof LEVELS)[number];
