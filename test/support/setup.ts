import nock from "nock";
import { afterAll } from "vitest";
import { useCheapHashingForTests } from "../../src/services/passwords.js";

// Staff passwords hashed at N=2^10 in the suite's own process (production: 2^17, see passwords.ts).
useCheapHashingForTests();

// No test ever reaches the network; servers the tests start themselves on loopback are fine.
nock.disableNetConnect();
nock.enableNetConnect(/^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/);

afterAll(() => {
  nock.cleanAll();
});
