import type { Locale } from "../../conversation/types.js";

/**
 * The values Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) serves, as plain data:
 * the HTTP layer (src/http/open311/) writes them as XML or JSON with the same element names. The
 * services build them; nothing here knows about formats. Ids and codes are strings, as the
 * published JSON Schemas require; datetimes are ISO 8601 with the Beirut offset and no
 * milliseconds (src/lib/beirutTime.ts).
 */

/** One entry of services.{xml,json}: a category residents and other tools can file in. */
export interface O311Service {
  /** The category's code: a stable string, never a number, never reused. */
  service_code: string;
  service_name: string;
  description: string | null;
  /** True when the service has attributes (GET services/{code} lists them). */
  metadata: boolean;
  type: "realtime";
  /** Comma-separated, without FixMyStreet's reserved words (private, inactive, staff, waste_only). */
  keywords: string | null;
  /** The department, in the language asked. */
  group: string | null;
}

export type O311Datatype = "string" | "number" | "datetime" | "text" | "singlevaluelist" | "multivaluelist";

export interface O311Attribute {
  variable: true;
  code: string;
  datatype: O311Datatype;
  required: boolean;
  datatype_description: string | null;
  /** 1..n in the order staff set. */
  order: number;
  description: string;
  /** For the list types: key (stable string) and name in the language asked. */
  values: Array<{ key: string; name: string }>;
}

/** services/{code}.{xml,json} */
export interface O311ServiceDefinition {
  service_code: string;
  attributes: O311Attribute[];
}

/** One request of requests.{xml,json}. Never a phone number, a name, an email or account data. */
export interface O311Request {
  /** The ticket's reference, as a string. */
  service_request_id: string;
  status: "open" | "closed";
  /** The public note staff wrote with the last status change; never a reply or an internal note. */
  status_notes: string | null;
  service_name: string | null;
  service_code: string | null;
  description: string | null;
  agency_responsible: string | null;
  service_notice: string | null;
  requested_datetime: string;
  updated_datetime: string;
  expected_datetime: string | null;
  address: string | null;
  address_id: string | null;
  zipcode: string | null;
  lat: number | null;
  long: number | null;
  /** Only media the municipality chose to publish: none by default. */
  media_url: string | null;
}

/** What POST requests answers: the request filed (GeoReport v2's RequestResponse; no token, this server is realtime). */
export interface O311Created {
  service_request_id: string;
  /** What happens next, in the language asked. */
  service_notice: string;
  /** The client's own account id for the person, as it sent it (null when none). */
  account_id: string | null;
}

/**
 * One entry of servicerequestupdates (mySociety's Open311 extension, which FixMyStreet reads to
 * follow the town's answers): a public status change or public note of a public request.
 */
export interface O311Update {
  /** The history event's id, as a string: stable, increasing. */
  update_id: string;
  service_request_id: string;
  /** The request's Open311 status after this update. */
  status: "open" | "closed";
  updated_datetime: string;
  /** The public note staff wrote with it ("" when none). */
  description: string;
  /** Only media the municipality chose to publish: none. */
  media_url: string;
}

/** The filters of GET requests, already read and checked (the HTTP layer parses the query). */
export type PublicRequestsQuery =
  | { kind: "ids"; references: number[] }
  | {
      kind: "search";
      serviceCodes: string[];
      statuses: Array<"open" | "closed">;
      /** Requested on or after, before `end`; at most 90 days apart (the HTTP layer checks). */
      start: Date;
      end: Date;
      /** At most 1,000. */
      limit: number;
    };

export type O311Locale = Locale;
