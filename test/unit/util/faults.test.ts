import { describe, expect, it } from 'vitest';
import { faults, readFaults } from '../../../src/util/faults.js';

describe('fault hooks', () => {
  it('are all off without their variables', () => {
    expect(readFaults({})).toEqual({ cleanerCrashAt: 0, uwsUnloadable: false });
    expect(faults.cleanerCrashAt).toBe(0); // the test process sets none
  });

  it('reads BROOK_TEST_CLEANER_CRASH_AT as a swap step 1-8, anything else as off', () => {
    expect(readFaults({ BROOK_TEST_CLEANER_CRASH_AT: '3' }).cleanerCrashAt).toBe(3);
    for (const v of ['0', '9', '-1', '2.5', 'x', '']) expect(readFaults({ BROOK_TEST_CLEANER_CRASH_AT: v }).cleanerCrashAt).toBe(0);
  });
});
