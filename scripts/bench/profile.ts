/**
 * A small summariser for V8 .cpuprofile files (node --cpu-prof): self time per function, aggregated
 * by function name + file across every node of the call tree and across profiles.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { ROOT } from "./processes.js";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface SelfTime {
  function: string;
  file: string;
  selfMs: number;
  /** Share of the non-idle time. */
  share: number;
}

export interface ProfileSummary {
  files: string[];
  /** Only samples inside these windows were counted (CLOCK_MONOTONIC µs, as process.hrtime), when given. */
  windows?: Array<[number, number]>;
  /** Sampled time that was not (idle), ms. */
  busyMs: number;
  idleMs: number;
  top: SelfTime[];
  /** Self time rolled up per file (a package's file, a wasm module, a source file). */
  byFile: Array<{ file: string; selfMs: number; share: number }>;
}

/** Shortens a script URL to something readable: repo-relative, or package-relative in node_modules. */
function shortFile(url: string): string {
  if (!url) return "";
  if (url.startsWith("wasm://")) return `${url} (WebAssembly)`;
  let file = url.replace(/^file:\/\//, "");
  const nm = file.lastIndexOf("/node_modules/");
  if (nm >= 0) return file.slice(nm + "/node_modules/".length);
  if (file.startsWith(ROOT)) file = path.relative(ROOT, file);
  return file;
}

/**
 * Self time per function+file over `files`; with `windows`, only the samples taken inside them (the
 * measured rounds, not start-up). V8 profile timestamps are CLOCK_MONOTONIC µs, like process.hrtime.
 */
export function summariseProfiles(files: string[], top = 15, windows?: Array<[number, number]>): ProfileSummary {
  const self = new Map<string, { fn: string; file: string; us: number }>();
  let idleUs = 0;
  let busyUs = 0;
  for (const file of files) {
    const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const samples = profile.samples ?? [];
    const deltas = profile.timeDeltas ?? [];
    // A sample's duration is the delta to the next sample (V8 records the delta before each one).
    let at = profile.startTime;
    for (let i = 0; i < samples.length; i++) {
      at += deltas[i] ?? 0;
      if (windows && !windows.some(([from, to]) => at >= from && at <= to)) continue;
      const node = byId.get(samples[i]!);
      if (!node) continue;
      const us = Math.max(0, deltas[i + 1] ?? 0);
      const { functionName, url } = node.callFrame;
      if (functionName === "(idle)") {
        idleUs += us;
        continue;
      }
      busyUs += us;
      const fn = functionName || "(anonymous)";
      const short = shortFile(url);
      const key = `${fn}\u0000${short}`;
      const entry = self.get(key) ?? { fn, file: short, us: 0 };
      entry.us += us;
      self.set(key, entry);
    }
  }
  const rows = [...self.values()].sort((a, b) => b.us - a.us).slice(0, top);
  const perFile = new Map<string, number>();
  for (const r of self.values()) perFile.set(r.file || "(native/VM)", (perFile.get(r.file || "(native/VM)") ?? 0) + r.us);
  return {
    files,
    ...(windows ? { windows } : {}),
    busyMs: busyUs / 1000,
    idleMs: idleUs / 1000,
    top: rows.map((r) => ({ function: r.fn, file: r.file, selfMs: r.us / 1000, share: busyUs > 0 ? r.us / busyUs : 0 })),
    byFile: [...perFile]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([file, us]) => ({ file, selfMs: us / 1000, share: busyUs > 0 ? us / busyUs : 0 })),
  };
}
