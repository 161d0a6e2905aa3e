import nock from "nock";
import { afterAll } from "vitest";

// No test ever reaches the network; servers the tests start themselves on loopback are fine.
nock.disableNetConnect();
nock.enableNetConnect(/^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/);

afterAll(() => {
  nock.cleanAll();
});
