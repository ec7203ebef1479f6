// Type descriptions (libbcc's JSON) → layouts → values.
export * from './layout.ts';
export * from './codec.ts';
