import type { HotQ } from "./connect.js";
import { prepared } from "./prepared.js";

const upsertHeartbeat = prepared((db, p: { municipalityId: string; route: string; deviceId: string; at: Date; event: string }) =>
  db
    .insertInto("GatewayHeartbeat")
    .values({ municipalityId: p.municipalityId, route: p.route, deviceId: p.deviceId, lastSeenAt: p.at, lastEvent: p.event, createdAt: p.at, updatedAt: p.at })
    .onConflict((oc) => oc.columns(["municipalityId", "route", "deviceId"]).doUpdateSet({ lastSeenAt: p.at, lastEvent: p.event, updatedAt: p.at })),
);

/** Records that a gateway (an Android phone) was heard from: one row per phone, the latest word kept. */
export async function recordHeartbeat(q: HotQ, beat: { municipalityId: string; route: string; deviceId: string; at: Date; event: string }): Promise<void> {
  await upsertHeartbeat.run(q, beat);
}
