// C++ and Rust (legacy) symbol names made readable by libstdc++'s own demangler, __cxa_demangle:
// every Node process already maps libstdc++.so.6, so this costs no package and no memory, and it
// is the demangler g++ itself ships. Rust's v0 scheme ("_R…") is not Itanium and stays mangled.
import koffi from 'koffi';

type Demangle = (mangled: string, out: null, length: null, status: number[]) => unknown;

let cxaDemangle: Demangle | null | undefined;
let free: ((ptr: unknown) => void) | undefined;

function bind(): Demangle | null {
  if (cxaDemangle !== undefined) return cxaDemangle;
  try {
    const lib = koffi.load('libstdc++.so.6');
    cxaDemangle = lib.func('void *__cxa_demangle(const char *mangled, void *out, void *len, _Out_ int *status)') as Demangle;
    // __cxa_demangle returns a malloc'ed buffer: freed by the same libc that allocated it.
    free = koffi.load('libc.so.6').func('void free(void *ptr)') as (ptr: unknown) => void;
  } catch {
    cxaDemangle = null;
  }
  return cxaDemangle;
}

// A Rust legacy path ends in "::h" and 16 hex digits, a hash of the crate's build: rustc-demangle
// hides it by default, and so do we.
const RUST_HASH = /::h[0-9a-f]{16}$/;

/** The readable form of an Itanium-mangled name ("_ZN3Foo3barEi" → "Foo::bar(int)"), or null. */
export function demangle(name: string): string | null {
  if (!name.startsWith('_Z')) return null;
  const fn = bind();
  if (!fn) return null;
  const status = [0];
  const ptr = fn(name, null, null, status);
  if (!ptr || status[0] !== 0) return null;
  try {
    return (koffi.decode(ptr, 'char', -1) as string).replace(RUST_HASH, '');
  } finally {
    free?.(ptr);
  }
}
