/** Marks the end of an exhaustive `switch` over a tagged union: a new member becomes a type error. */
export function assertNever(value: never): never {
  throw new Error(`Unexpected value: ${JSON.stringify(value)}`);
}
