/**
 * Cairn's wire format: the public gRPC API, the replicated log-entry format, and the canonical
 * hashing and proof-verification rules that the node and every client must agree on byte for
 * byte.
 */
package io.cairn.proto;
