import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests start real brokers and real client processes: give them room, and run
    // files in separate forks so a crashing native call cannot take the whole run down.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
