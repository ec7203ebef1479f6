// The binding suite with every program compiled anew (no cache).
process.env.BPFKIT_NO_CACHE = '1';
process.env.BPFKIT_TEST_PATH = 'fresh';
await import('./binding-suite.ts');
