// xz decompression through the system's liblzma (liblzma.so.5: every distribution has it, since
// xz, systemd and dpkg link it), for the .gnu_debugdata section (MiniDebugInfo) that Fedora, RHEL
// and others put in their binaries. One call, lzma_stream_buffer_decode, decodes a whole .xz
// stream from memory; no npm package is needed.
import koffi from 'koffi';

const LZMA_OK = 0;
const LZMA_BUF_ERROR = 10;
// lzma_stream_buffer_decode: no flags (LZMA_CONCATENATED and friends are for files, not sections).
const NO_FLAGS = 0;
// A decoder's working memory is bounded by the dictionary xz used: 64 MB covers `xz -9`.
const MEMLIMIT = 64n << 20n;
// A section that claims more than this when decompressed is not a symbol table we want to hold.
const MAX_OUTPUT = 256 << 20;

type Decode = (memlimit: Buffer, flags: number, allocator: null, input: Buffer, inPos: Buffer, inSize: number,
  output: Buffer, outPos: Buffer, outSize: number) => number;

let decode: Decode | null | undefined;

function bind(): Decode | null {
  if (decode !== undefined) return decode;
  try {
    decode = koffi.load('liblzma.so.5').func('int lzma_stream_buffer_decode(void *memlimit, uint32_t flags, void *allocator, ' +
      'const void *in, void *in_pos, size_t in_size, void *out, void *out_pos, size_t out_size)') as Decode;
  } catch {
    decode = null;
  }
  return decode;
}

/** Whether liblzma could be loaded (MiniDebugInfo is skipped without it). */
export function lzmaAvailable(): boolean {
  return bind() !== null;
}

/** The decompressed bytes of one .xz stream, or null (no liblzma, or not a valid stream). */
export function xzDecompress(input: Buffer): Buffer | null {
  const fn = bind();
  if (!fn) return null;
  // The stream's index holds the exact size, but reading it means parsing xz's format; a guess
  // that doubles on LZMA_BUF_ERROR costs one or two retries on a section of a few hundred KB.
  for (let size = Math.max(input.length * 4, 64 << 10); size <= MAX_OUTPUT; size *= 2) {
    const memlimit = Buffer.alloc(8);
    memlimit.writeBigUInt64LE(MEMLIMIT);
    const inPos = Buffer.alloc(8);
    const outPos = Buffer.alloc(8);
    const output = Buffer.allocUnsafe(size);
    const ret = fn(memlimit, NO_FLAGS, null, input, inPos, input.length, output, outPos, size);
    if (ret === LZMA_OK) return output.subarray(0, Number(outPos.readBigUInt64LE()));
    if (ret !== LZMA_BUF_ERROR) return null;
  }
  return null;
}
