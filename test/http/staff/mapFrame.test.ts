import { describe, expect, it } from "vitest";
import { tileOrigin } from "../../../src/http/staff/map/mapFrame.js";

describe("the map's tiles and the Content-Security-Policy", () => {
  it.each([
    ["https://tile.openstreetmap.org/{z}/{x}/{y}.png", "https://tile.openstreetmap.org"],
    ["https://{s}.tile.example.org/{z}/{x}/{y}.png", "https://*.tile.example.org"],
    ["https://tiles.example.org:8443/osm/{z}/{x}/{y}.png", "https://tiles.example.org:8443"],
  ])("images from %s are allowed from %s", (url, origin) => {
    expect(tileOrigin(url)).toBe(origin);
  });

  it("a template the configuration would refuse gives no origin", () => {
    expect(tileOrigin("https://*/{z}/{x}/{y}.png")).toBeNull();
    expect(tileOrigin("https://a.com,b.com/{z}/{x}/{y}.png")).toBeNull();
  });

  it("no tiles, no extra origin", () => {
    expect(tileOrigin(null)).toBeNull();
  });
});
