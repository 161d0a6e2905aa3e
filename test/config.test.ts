import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.js";

describe("configuration", () => {
  it("runs on its embedded defaults", () => {
    expect(loadConfig({})).toEqual({
      env: "development",
      server: { port: 3000, host: "127.0.0.1", publicBaseUrl: "http://localhost:3000", trustProxy: "loopback" },
      database: { url: "file:./data/baladiya.db", sqliteSynchronous: "normal" },
      municipality: { id: "qab-elias", seedDemoData: true },
      twilio: {},
      androidSms: null,
      smpp: null,
      whatsappWeb: { enabled: false, chromiumPath: "/usr/bin/chromium", dataDir: "./data/whatsapp-web", perMinute: 20, bulk: false },
      outbox: { concurrency: 4, deadlineHours: 24 },
      inbox: { guard: { rateLimit: 20, rateWindowMinutes: 10, loopRepeatLimit: 5, loopQuietMinutes: 60 } },
      staff: {},
      accounts: { importCron: "0 2 * * *", reminderDaysBefore: 7, digits: "western" },
      surveys: { offer: true, smsPerMinute: 30, whatsappPerSecond: 20 },
      map: { childZoneMetres: 150, tileUrl: "https://tile.openstreetmap.org/{z}/{x}/{y}.png", tileAttribution: "© OpenStreetMap contributors" },
      open311: { jurisdictionId: "localhost", publicRead: true, readsPerMinute: 120, writesPerMinute: 30, contact: "The municipality's service requests (Baladiya): http://localhost:3000" },
      log: { level: "info" },
    });
  });

  it("reads every documented variable", () => {
    const config = loadConfig({
      NODE_ENV: "production",
      PORT: "8080",
      HOST: "0.0.0.0",
      DATABASE_URL: "postgresql://baladiya@db:5432/baladiya",
      PUBLIC_BASE_URL: "https://baladiya.example.org/",
      TRUST_PROXY: "1",
      TWILIO_ACCOUNT_SID: "AC0123456789abcdef0123456789abcdef",
      TWILIO_AUTH_TOKEN: "0123456789abcdef0123456789abcdef",
      TWILIO_SMS_FROM: "+9611555000",
      TWILIO_WHATSAPP_FROM: "+9611555001",
      LOG_LEVEL: "warn",
      TWILIO_WHATSAPP_TEMPLATE_SID: "HX0123456789abcdef0123456789abcdef",
      SESSION_SECRET: "s".repeat(40),
      ADMIN_USERNAME: "admin",
      ADMIN_PASSWORD: "correct horse battery",
      TWILIO_API_URL: "http://127.0.0.1:4010/",
      SQLITE_SYNCHRONOUS: "full",
      OUTBOX_CONCURRENCY: "8",
      OUTBOX_DEADLINE_HOURS: "48",
      INBOUND_RATE_LIMIT: "30",
      INBOUND_RATE_WINDOW_MINUTES: "15",
      LOOP_REPEAT_LIMIT: "4",
      LOOP_QUIET_MINUTES: "120",
    });
    expect(config.staff).toEqual({ sessionSecret: "s".repeat(40), initialAdmin: { username: "admin", password: "correct horse battery" } });
    expect(config.server).toEqual({ port: 8080, host: "0.0.0.0", publicBaseUrl: "https://baladiya.example.org", trustProxy: 1 });
    expect(config.database).toEqual({ url: "postgresql://baladiya@db:5432/baladiya", sqliteSynchronous: "full" });
    expect(config.municipality.seedDemoData).toBe(false);
    expect(config.twilio).toEqual({
      accountSid: "AC0123456789abcdef0123456789abcdef",
      authToken: "0123456789abcdef0123456789abcdef",
      smsFrom: "+9611555000",
      whatsappFrom: "whatsapp:+9611555001",
      whatsappTemplateSid: "HX0123456789abcdef0123456789abcdef",
      apiUrl: "http://127.0.0.1:4010",
    });
    expect(config.outbox).toEqual({ concurrency: 8, deadlineHours: 48 });
    expect(config.inbox.guard).toEqual({ rateLimit: 30, rateWindowMinutes: 15, loopRepeatLimit: 4, loopQuietMinutes: 120 });
    expect(config.log.level).toBe("warn");
  });

  it("reads the WhatsApp Web settings, and refuses a pace that gets numbers banned", () => {
    const config = loadConfig({ WHATSAPP_WEB_ENABLED: "true", CHROMIUM_PATH: "/opt/chromium/chrome", WHATSAPP_WEB_DATA_DIR: "/var/lib/baladiya/wa", WHATSAPP_WEB_PER_MINUTE: "12", WHATSAPP_WEB_BULK: "1" });
    expect(config.whatsappWeb).toEqual({ enabled: true, chromiumPath: "/opt/chromium/chrome", dataDir: "/var/lib/baladiya/wa", perMinute: 12, bulk: true });
    expect(() => loadConfig({ WHATSAPP_WEB_PER_MINUTE: "200" })).toThrow(/WHATSAPP_WEB_PER_MINUTE: is at most 60/);
    expect(() => loadConfig({ CHROMIUM_PATH: "chromium" })).toThrow(/CHROMIUM_PATH: must be an absolute path/);
  });

  it("reads the Android gateway and SMPP settings, and says which companion setting is missing", () => {
    const config = loadConfig({
      ANDROID_SMS_URL: "http://192.168.1.50:8080/",
      ANDROID_SMS_USERNAME: "sms",
      ANDROID_SMS_PASSWORD: "town hall phone",
      ANDROID_SMS_SIGNING_KEY: "k".repeat(20),
      ANDROID_SMS_SIM: "2",
      SMPP_URL: "smpp://smsc.example.net:2775",
      SMPP_SYSTEM_ID: "baladiya",
      SMPP_PASSWORD: "s3cret",
      SMPP_SOURCE_ADDR: "1717",
      SMPP_PER_SECOND: "30",
    });
    expect(config.androidSms).toEqual({ url: "http://192.168.1.50:8080", username: "sms", password: "town hall phone", signingKey: "k".repeat(20), sim: 2, perMinute: 25 });
    expect(config.smpp).toEqual({ url: "smpp://smsc.example.net:2775", systemId: "baladiya", password: "s3cret", sourceAddr: "1717", perSecond: 30, window: 10 });
    expect(() => loadConfig({ ANDROID_SMS_URL: "http://192.168.1.50:8080" })).toThrow(/ANDROID_SMS_USERNAME, ANDROID_SMS_PASSWORD: required with ANDROID_SMS_URL/);
    const production = { NODE_ENV: "production", SESSION_SECRET: "s".repeat(40) };
    expect(() => loadConfig({ ...production, ANDROID_SMS_URL: "http://10.0.0.9:8080", ANDROID_SMS_USERNAME: "sms", ANDROID_SMS_PASSWORD: "pw" })).toThrow(
      /ANDROID_SMS_SIGNING_KEY: required with ANDROID_SMS_URL/,
    );
    expect(() => loadConfig({ SMPP_URL: "smpp://smsc.example.net:2775", SMPP_SYSTEM_ID: "baladiya" })).toThrow(/SMPP_PASSWORD, SMPP_SOURCE_ADDR: required with SMPP_URL/);
    expect(() => loadConfig({ SMPP_URL: "http://smsc.example.net" })).toThrow(/SMPP_URL: must look like smpp:\/\//);
    expect(() => loadConfig({ SMPP_PASSWORD: "longer-than-eight" })).toThrow(/SMPP_PASSWORD: is at most 8 characters/);
  });

  it("production requires a session secret; the first admin needs both name and password", () => {
    expect(() => loadConfig({ NODE_ENV: "production" })).toThrow(/SESSION_SECRET: is required in production/);
    expect(() => loadConfig({ ADMIN_USERNAME: "admin" })).toThrow(/ADMIN_USERNAME, ADMIN_PASSWORD/);
  });

  it("in production, TWILIO_API_URL over plain http is refused unless it is on this machine", () => {
    const production = { NODE_ENV: "production", SESSION_SECRET: "s".repeat(40) };
    // The auth token would cross the network unencrypted.
    expect(() => loadConfig({ ...production, TWILIO_API_URL: "http://twilio-mock.internal:4010" })).toThrow(/TWILIO_API_URL: must use https in production/);
    expect(() => loadConfig({ ...production, TWILIO_API_URL: "http://10.0.0.5" })).toThrow(/TWILIO_API_URL/);
    for (const local of ["http://127.0.0.1:4010", "http://localhost:4010", "http://[::1]:4010"]) {
      expect(loadConfig({ ...production, TWILIO_API_URL: local }).twilio.apiUrl).toBe(local);
    }
    expect(loadConfig({ ...production, TWILIO_API_URL: "https://twilio-mock.internal" }).twilio.apiUrl).toBe("https://twilio-mock.internal");
    expect(loadConfig({ NODE_ENV: "development", TWILIO_API_URL: "http://twilio-mock.internal:4010" }).twilio.apiUrl).toBe("http://twilio-mock.internal:4010");
  });

  it("takes the map's tiles from MAP_TILE_URL, or none with off", () => {
    expect(loadConfig({ MAP_TILE_URL: "https://{s}.tile.example.org/{z}/{x}/{y}.png", MAP_TILE_ATTRIBUTION: "© Example" }).map).toMatchObject({
      tileUrl: "https://{s}.tile.example.org/{z}/{x}/{y}.png",
      tileAttribution: "© Example",
    });
    expect(loadConfig({ MAP_TILE_URL: "off" }).map.tileUrl).toBeNull();
    for (const url of ["https://tiles.example.org:8443/osm/{z}/{x}/{y}.png?key=abc123", "https://tiles.example.org/{z}/{x}/{-y}{r}.png"]) expect(loadConfig({ MAP_TILE_URL: url }).map.tileUrl).toBe(url);
  });

  it("serves Open311 for the public host by default, or as OPEN311_* say", () => {
    expect(loadConfig({ PUBLIC_BASE_URL: "https://WWW.Baladiya-Qabelias.example.org/" }).open311).toEqual({
      jurisdictionId: "baladiya-qabelias.example.org",
      publicRead: true,
      readsPerMinute: 120,
      writesPerMinute: 30,
      contact: "The municipality's service requests (Baladiya): https://WWW.Baladiya-Qabelias.example.org",
    });
    expect(loadConfig({ PUBLIC_BASE_URL: "http://192.168.1.20:3000" }).open311.jurisdictionId).toBe("192.168.1.20");
    expect(
      loadConfig({
        PUBLIC_BASE_URL: "https://baladiya.example.org",
        OPEN311_JURISDICTION_ID: "QabElias.gov.lb",
        OPEN311_PUBLIC_READ: "false",
        OPEN311_READS_PER_MINUTE: "30",
        OPEN311_WRITES_PER_MINUTE: "5",
        OPEN311_CONTACT: "open311@qabelias.gov.lb, +961 8 500 000",
      }).open311,
    ).toEqual({ jurisdictionId: "qabelias.gov.lb", publicRead: false, readsPerMinute: 30, writesPerMinute: 5, contact: "open311@qabelias.gov.lb, +961 8 500 000" });
    expect(loadConfig({ OPEN311_PUBLIC_READ: "0" }).open311.publicRead).toBe(false);
    expect(() => loadConfig({ OPEN311_WRITES_PER_MINUTE: "0" })).toThrow(/OPEN311_WRITES_PER_MINUTE/);
  });

  it("treats empty values as unset, so a copied .env.example works", () => {
    expect(loadConfig({ PORT: "", TWILIO_AUTH_TOKEN: "" }).server.port).toBe(3000);
  });

  it.each([
    ["PORT", "eighty"],
    ["PORT", "70000"],
    ["DATABASE_URL", "mysql://localhost/db"],
    ["PUBLIC_BASE_URL", "not a url"],
    ["TWILIO_ACCOUNT_SID", "123"],
    ["TWILIO_SMS_FROM", "71123456"],
    ["LOG_LEVEL", "loud"],
    ["SQLITE_SYNCHRONOUS", "off"],
    ["DEMO_DATA", "yes please"],
    ["SESSION_SECRET", "short"],
    ["TWILIO_WHATSAPP_TEMPLATE_SID", "template-1"],
    ["MAP_TILE_URL", "http://tiles.example.org/{z}/{x}/{y}.png"],
    ["MAP_TILE_URL", "https://tiles.example.org/tile.png"],
    ["MAP_TILE_URL", 'https://tiles.example.org/{z}/{x}/{y}.png"><script>'],
    ["MAP_TILE_URL", "https://*/{z}/{x}/{y}.png"],
    ["MAP_TILE_URL", "https://{s}/{z}/{x}/{y}.png"],
    ["MAP_TILE_URL", "https://tiles.{s}/{z}/{x}/{y}.png"],
    ["MAP_TILE_URL", "https://tiles.example.org:{s}/{z}/{x}/{y}.png"],
    ["MAP_TILE_URL", "https://*.org/{z}/{x}/{y}.png"],
    ["MAP_TILE_URL", "https://user:pw@tiles.example.org/{z}/{x}/{y}.png"],
    ["MAP_TILE_URL", "https://a.com,b.com/{z}/{x}/{y}.png"],
    ["MAP_TILE_URL", "https://tiles.example.org/{z}/{x}/{y}.png?key={apikey}"],
    ["MAP_TILE_URL", "https://tiles.example.org/{z}/{x}/{y}\u0007.png"],
    ["OPEN311_JURISDICTION_ID", "qab elias"],
    ["OPEN311_JURISDICTION_ID", "https://baladiya.example.org"],
    ["OPEN311_PUBLIC_READ", "yes"],
    ["OPEN311_READS_PER_MINUTE", "0"],
    ["OPEN311_READS_PER_MINUTE", "many"],
    ["OPEN311_CONTACT", "x".repeat(501)],
    ["OPEN311_CONTACT", "bell\u0007"],
  ])("a bad %s (%s) stops start-up with a message naming it", (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`${name}:`));
  });
});
