// The client library of Service Vault Timers: the generated `TimerServiceClient`
// (Generated/) and the runtime around it — `TimerClient` (one connection,
// token, deadlines, retries, reconnection), `TimerEventStream` (a watch that
// resumes by itself) and `OfflineSync` (queued offline changes, debounced sync,
// conflicts).
//
// The message types (`Codec`) and the gRPC vocabulary (`RPC`: `StatusCode`,
// `Metadata`, `CallOptions`) are part of this library's API, so `import
// ClientLib` brings them along.
@_exported import Codec
@_exported import RPC
