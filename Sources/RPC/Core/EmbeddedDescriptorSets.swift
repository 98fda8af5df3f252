/// Descriptor sets compiled into the binaries, for server reflection: each a
/// serialized `google.protobuf.FileDescriptorSet` made by
/// `protoc --include_imports --descriptor_set_out` (`make proto`), base64-encoded.
public enum EmbeddedDescriptorSets {}
