// Types for seam.mjs: GPT-2 family models in the browser and node, on seam's C engine
// compiled to WebAssembly (SIMD128; pthreads where SharedArrayBuffer is available).

export interface Progress {
  /** The file this update is about ("config.json", "model.safetensors", a shard...). */
  file: string;
  /** Bytes received so far over every file started, and their announced sizes. */
  loaded: number;
  total: number;
  fileLoaded: number;
  fileTotal: number;
  /** The file is read from the Cache API rather than downloaded. */
  fromCache: boolean;
}

export interface LoadOptions {
  onProgress?: (p: Progress) => void;
  /** Threads for the forward pass (default: min(4, cores)); 1 wherever threads are unavailable. */
  threads?: number;
  /** Store and reuse the files with the Cache API (default true; never in node). */
  cache?: boolean;
  /** Context length (default and maximum: the model's n_positions). */
  nCtx?: number;
  /** Passed to fetch() for every file (credentials, headers...). */
  fetchInit?: RequestInit;
}

export interface ModelInfo {
  /** 'decoder': GPT-2 family, generate(); 'encoder': BERT family, embed(). */
  kind: 'decoder' | 'encoder';
  nLayer: number;
  nEmbd: number;
  nHead: number;
  /** decoders */
  nPositions?: number;
  vocabSize: number;
  /** decoders */
  eosTokenId?: number;
  /** decoders */
  bosTokenId?: number;
  threads: number;
  /** decoders */
  nCtx?: number;
  /** decoders */
  hasTokenizer?: boolean;
  weightDtype: 'f32' | 'f16' | 'bf16' | 'unknown';
  /** decoders: how the block weights are stored, 'none' when plain (in weightDtype) or
   * quantised by `seam quantize` (weightDtype then names the dtype of the other tensors) */
  weightQuant?: 'none' | 'q8' | 'q4' | 'unknown';
  weightBytes: number;
  simd: boolean;
  /** q8 and q4 prefill, and q4 decode, run on relaxed SIMD's byte dot product (engines whose
   * dot sums unsigned bytes exactly, e.g. Chromium on x86 with AVX-VNNI); the results are the
   * same bits either way. */
  relaxedSimd: boolean;
  /** Bytes this load() took from the network (0 when everything came from the cache). */
  bytesFromNetwork: number;
  baseUrl: string;
  /** Encoders only: embedding width, longest input in tokens, pooling, normalisation. */
  hidden?: number;
  maxSeqLength?: number;
  pooling?: 'mean' | 'cls' | 'max' | 'lasttoken' | 'unknown';
  normalize?: boolean;
}

export interface Token {
  id: number;
  /** The text this token completes (may be '' while a UTF-8 character is still split). */
  text: string;
  index: number;
}

export interface GenerateOptions {
  /** Most tokens to generate (default 64); generation also ends at end-of-text and a full context. */
  maxTokens?: number;
  /** Default 0.8; 0 or less picks the most likely token. */
  temperature?: number;
  /** Default 40; 0 turns it off. */
  topK?: number;
  /** Default 0.95; 1 turns it off. */
  topP?: number;
  /** Makes sampling reproducible (integer below 2^53; default random). */
  seed?: number;
  greedy?: boolean;
  ignoreEos?: boolean;
  onToken?: (t: Token) => void;
}

export interface Generation {
  text: string;
  ids: number[];
  promptTokens: number;
  prefillMs: number;
  decodeMs: number;
  prefillTokensPerSecond: number;
  tokensPerSecond: number;
}

export interface Model {
  readonly info: ModelInfo;
  tokenize(text: string): number[];
  detokenize(ids: ArrayLike<number>): string;
  tokenBytes(id: number): Uint8Array;
  /** prompt: text, or token ids. One generation at a time per model. Encoders throw. */
  generate(prompt: string | ArrayLike<number>, options?: GenerateOptions): Promise<Generation>;
  /**
   * Encoders: one embedding per text, as sentence-transformers computes it (the folder's
   * pooling and normalisation; normalize forces it on or off). Decoders throw.
   */
  embed(texts: string | string[], options?: { normalize?: boolean }): Float32Array[];
  /** Last-position logits of a fresh forward pass over ids (decoders). */
  logits(ids: ArrayLike<number>): Float32Array;
  close(): void;
}

/**
 * Fetches a model folder (URL, or in node a path) and opens it: a GPT-2 family checkpoint
 * (decoder), or a BERT-family one, sentence-transformers layout or plain (encoder).
 */
export function load(baseUrl: string, options?: LoadOptions): Promise<Model>;
export interface ConnectOptions {
  /** The server's model id (default: its only model). */
  model?: string;
  /** Split point k in [0, n_layer]: blocks [0, k) on one side, [k, n_layer) on the other. */
  split: number;
  /**
   * 'tail' (default): the server embeds and runs [0, k); this page runs [k, N), the head
   * and sampling. 'head': this page embeds and runs [0, k); the server runs the rest and
   * samples (the prompt's tokens never leave the page).
   */
  mode?: 'tail' | 'head';
  /** How hidden states travel (default 'f32'; 'f16' halves the bytes, 'q8' quarters them). */
  activation?: 'f32' | 'f16' | 'q8';
  /** Threads for this side's blocks (as load()). */
  threads?: number;
  /** Context of the session (default and maximum: the server's max_context). */
  nCtx?: number;
  /** Keep the shard's files in the Cache API (default true). */
  cache?: boolean;
  /** Sent as "Authorization: Bearer KEY" when the server has --api-key. */
  apiKey?: string;
  fetchInit?: RequestInit;
  /** Shard download progress (total: the shard's bytes from its manifest). */
  onProgress?: (p: Progress) => void;
}

export interface SplitInfo extends ModelInfo {
  kind: 'split';
  mode: 'tail' | 'head';
  split: number;
  activation: 'f32' | 'f16' | 'q8';
  /** The server's model id and fingerprint (SHA-256 of config and weights). */
  model: string;
  fingerprint: string;
  serverUrl: string;
  /** Bytes of the shard this side holds (bytesFromNetwork: of which were downloaded now). */
  shardBytes: number;
  /** Weight bytes of the whole model on the server, for comparison. */
  fullModelBytes: number;
  /** The server's session id (null once closed). */
  sessionId: string | null;
}

export interface SplitStats {
  /** HTTP bodies of the steps (ids or hidden states out, hidden states or tokens in). */
  bytesSent: number;
  bytesReceived: number;
  /** Steps: one per generated token (the first carries the prompt). */
  roundTrips: number;
  /** Wall time in step requests, and of it the compute the server reported. */
  seconds: number;
  serverSeconds: number;
}

export interface SplitSession {
  readonly info: SplitInfo;
  readonly stats: SplitStats;
  tokenize(text: string): number[];
  detokenize(ids: ArrayLike<number>): string;
  tokenBytes(id: number): Uint8Array;
  /**
   * As Model.generate, one round trip per token. Greedy when temperature is 0; tail mode
   * samples in the page, head mode on the server (with these options and seed).
   */
  generate(prompt: string | ArrayLike<number>, options?: GenerateOptions): Promise<Generation>;
  /** Deletes the session on the server and frees this side's memory. */
  close(): Promise<void>;
}

/**
 * Opens a split session with a `seam serve` server (default: this page's origin): fetches
 * the manifest and files of the shard this side runs (sha256-checked, kept in the Cache
 * API), loads them, and creates the session (POST /v1/sessions).
 */
export function connect(serverUrl: string | undefined, options: ConnectOptions): Promise<SplitSession>;
/** Removes stored models (all, or those under baseUrl) from the Cache API. */
export function clearCache(baseUrl?: string): Promise<void>;
/** True where the pthreads build can run (node, cross-origin isolated pages). */
export function threadsAvailable(): boolean;
export function hardwareThreads(): number;
export const version: string;
