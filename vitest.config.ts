import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/globalSetup.ts"],
    setupFiles: ["test/support/setup.ts"],
    // Database-backed files each get their own database, so files may run in parallel.
    pool: "forks",
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
