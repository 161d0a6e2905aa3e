/**
 * Narrows a string stored in the database (a status, a channel) to the values the API documents.
 * A value outside them is a broken row, not bad input: it throws, and the request is a logged 500.
 */
export function knownValue<const T extends readonly string[]>(values: T, value: string, field: string): T[number] {
  const known = values.find((v) => v === value);
  if (known === undefined) throw new Error(`Unexpected ${field} in the database: ${JSON.stringify(value)}`);
  return known;
}
