import HTTP2

/// How a server call's response goes out on the wire, shared by
/// ``ServerCall`` and ``InlineCall`` (loop only).
enum ResponseWriting {
    /// The headers every gRPC response starts with.
    static let fixedHeaders = [
        HTTP2Header(":status", "200"),
        HTTP2Header("content-type", "application/grpc"),
        HTTP2Header("grpc-accept-encoding", MessageEncoding.acceptEncodingValue),
    ]
    /// The trailers of a successful call without trailing metadata.
    static let okTrailers = [HTTP2Header("grpc-status", "0")]
    /// The same two, encoded once.
    static let encodedFixedHeaders = HTTP2FixedHeaders(fixedHeaders)
    static let encodedOKTrailers = HTTP2FixedHeaders(okTrailers)

    /// The response headers: the fixed ones, the response's encoding (fixed
    /// by this call), the initial metadata.
    static func headers(_ context: ServerContext?) -> [HTTP2Header] {
        headers(compression: context?.fixResponseCompression() ?? .identity, initial: context?.initialMetadata ?? Metadata())
    }

    /// The response headers for the response encoding and initial metadata.
    static func headers(compression: Compression, initial: Metadata) -> [HTTP2Header] {
        var headers = fixedHeaders
        if compression == .gzip { headers.append(HTTP2Header("grpc-encoding", "gzip")) }
        if !initial.isEmpty { MetadataCoding.append(initial, to: &headers) }
        return headers
    }

    /// The trailers carrying `status` and `trailing` metadata.
    static func trailers(_ status: RPCError, trailing: Metadata) -> [HTTP2Header] {
        var trailers = status.code == .ok ? okTrailers : [HTTP2Header("grpc-status", String(status.code.rawValue))]
        if !status.message.isEmpty { trailers.append(HTTP2Header("grpc-message", PercentEncoding.encode(status.message))) }
        if !trailing.isEmpty { MetadataCoding.append(trailing, to: &trailers) }
        return trailers
    }

    /// Frames one response message into `framed`. The first one fixes the
    /// response's encoding (``ServerContext/responseCompression``) and makes
    /// `framer`; each may still be sent uncompressed
    /// (``ServerContext/compressResponseMessages``).
    static func frame(_ message: [UInt8], into framed: inout [UInt8], framer: inout MessageFramer?, context: ServerContext?) throws(RPCError) {
        if framer == nil { framer = MessageFramer(encoding: context?.fixResponseCompression() ?? .identity) }
        // The per-message choice matters only when the response compresses.
        let compress = framer!.encoding == .identity || (context?.compressResponseMessages ?? true)
        try framer!.append(message, compress: compress, to: &framed)
    }

    /// Frames a unary response, given as its encoding after
    /// ``MessageFramer/headerLength`` free bytes (``encodeResponse(_:)``):
    /// uncompressed, the header goes into those bytes and the buffer is sent
    /// as it is; compressed, the message is framed anew.
    static func frameUnary(_ response: consuming [UInt8], framer: inout MessageFramer?, parts: ServerContext.UnaryResponse) throws(RPCError) -> [UInt8] {
        precondition(response.count >= MessageFramer.headerLength, "a unary response without room for its header")
        if framer == nil { framer = MessageFramer(encoding: parts.compression) }
        let compress = framer!.encoding != .identity && parts.compressMessages
        guard compress else {
            try MessageFramer.writeUncompressedHeader(into: &response)
            return response
        }
        var framed: [UInt8] = []
        try response.withUnsafeBytesTyped { (bytes) throws(RPCError) in
            try framer!.append(UnsafeRawBufferPointer(rebasing: bytes[MessageFramer.headerLength...]), compress: true, to: &framed)
        }
        return framed
    }

    /// A unary call's whole successful response in one submission: headers,
    /// the framed message, trailers. Most calls add nothing to the fixed
    /// headers and trailers, which then go out as encoded once.
    static func sendUnary(_ framed: [UInt8], on stream: Int32, of connection: HTTP2Connection, parts: ServerContext.UnaryResponse) {
        let plainHeaders = parts.compression != .gzip && parts.initial.isEmpty
        let plainTrailers = parts.trailing.isEmpty
        connection.respond(stream,
                           headers: plainHeaders ? .fixed(encodedFixedHeaders) : .list(headers(compression: parts.compression, initial: parts.initial)),
                           body: framed,
                           trailers: plainTrailers ? .fixed(encodedOKTrailers) : .list(trailers(RPCError(code: .ok, message: ""), trailing: parts.trailing)))
    }

    /// A response that is only a status: one HEADERS frame ending the stream,
    /// with the initial metadata, `status` and `trailing` metadata.
    static func sendTrailersOnly(_ status: RPCError, trailing: Metadata, on stream: Int32, of connection: HTTP2Connection, context: ServerContext?) {
        var headers = fixedHeaders
        if let initial = context?.initialMetadata { MetadataCoding.append(initial, to: &headers) }
        connection.respond(stream, headers: headers + trailers(status, trailing: trailing), endStream: true)
    }

    /// The trailing metadata of a call ending with `error`: the handler's, then the error's.
    static func trailing(_ context: ServerContext?, _ error: RPCError?) -> Metadata {
        var trailing = context?.trailingMetadata ?? Metadata()
        for entry in error?.metadata ?? Metadata() { trailing.add(entry) }
        return trailing
    }
}
