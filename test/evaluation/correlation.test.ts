import { describe, expect, it } from 'vitest';
import { averageRanks, krcc, plcc, rmse, srcc } from '../../src/evaluation/correlation.js';

// Expected values were worked by hand and cross-checked with this scipy-free Python:
//   def ranks(v): o=sorted(range(len(v)),key=lambda i:v[i]); r=[0]*len(v); s=0
//     while s<len(o):
//       e=s
//       while e+1<len(o) and v[o[e+1]]==v[o[s]]: e+=1
//       for k in range(s,e+1): r[o[k]]=(s+e)/2+1
//       s=e+1
//     return r
//   def pearson(x,y): mx=sum(x)/len(x); my=sum(y)/len(y)
//     return sum((a-mx)*(b-my) for a,b in zip(x,y))/math.sqrt(sum((a-mx)**2 for a in x)*sum((b-my)**2 for b in y))
//   def kendall_b(x,y): count concordant c, discordant d, ties tx (x only or both), ty (y only or both)
//     over i<j; return (c-d)/math.sqrt((n0-tx)*(n0-ty)) with n0=n(n-1)/2
describe('correlation', () => {
  it('gives 0.8 / 0.8 / 0.6 on one swap in each half of 1..5 (no ties)', () => {
    // x = 1..5, y = 2,1,4,3,5: Σdxdy = 8, Σdx² = Σdy² = 10 → PLCC = SRCC = 0.8;
    // 8 concordant and 2 discordant of 10 pairs → tau = 0.6.
    const x = [1, 2, 3, 4, 5];
    const y = [2, 1, 4, 3, 5];
    expect(plcc(x, y)).toBeCloseTo(0.8, 12);
    expect(srcc(x, y)).toBeCloseTo(0.8, 12);
    expect(krcc(x, y)).toBeCloseTo(0.6, 12);
  });

  it('averages tied ranks', () => {
    expect(averageRanks([1, 2, 2, 3, 4, 4])).toEqual([1, 2.5, 2.5, 4, 5.5, 5.5]);
    expect(averageRanks([1, 3, 2, 2, 5, 4])).toEqual([1, 4, 2.5, 2.5, 6, 5]);
    expect(averageRanks([7, 7, 7])).toEqual([2, 2, 2]);
  });

  it('handles ties in SRCC and KRCC (tau-b)', () => {
    const x = [1, 2, 2, 3, 4, 4];
    const y = [1, 3, 2, 2, 5, 4];
    expect(plcc(x, y)).toBeCloseTo(0.8601512308077806, 12);
    // Pearson of the rank vectors above.
    expect(srcc(x, y)).toBeCloseTo(0.8508410434878083, 12);
    // 15 pairs: 11 concordant, 1 discordant, 2 tied in x only, 1 tied in y only → 10/√(13·14).
    expect(krcc(x, y)).toBeCloseTo(10 / Math.sqrt(13 * 14), 12);
    expect(krcc(x, y)).toBeCloseTo(0.7412493166611012, 12);
    // squared errors 0,1,0,1,1,0 → √(3/6)
    expect(rmse(x, y)).toBeCloseTo(Math.SQRT1_2, 12);
  });

  it('is −1 for a reversed order and NaN when one side is constant', () => {
    expect(srcc([1, 2, 3], [3, 2, 1])).toBeCloseTo(-1, 12);
    expect(krcc([1, 2, 3], [3, 2, 1])).toBeCloseTo(-1, 12);
    expect(plcc([1, 1, 1], [1, 2, 3])).toBeNaN();
    expect(krcc([1, 1, 1], [1, 2, 3])).toBeNaN();
  });

  it('refuses unpaired, short or non-finite input with a RangeError naming the problem', () => {
    expect(() => plcc([1, 2], [1, 2, 3])).toThrow(/Expected arrays of equal length for PLCC but received 2 and 3/);
    expect(() => srcc([1], [1])).toThrow(/at least 2 pairs for SRCC but received 1/);
    expect(() => krcc([1, Number.NaN], [1, 2])).toThrow(/finite numbers for KRCC but received NaN and 2 at index 1/);
    expect(() => rmse([], [])).toThrow(RangeError);
  });
});
