package io.cairn.node.raft;

/**
 * A voting member of the group as Cairn sees it.
 *
 * @param id the member's node id
 * @param raftAddress host:port of its Raft (peer-to-peer) endpoint
 * @param apiEndpoint host:port of its public API
 */
public record Peer(String id, String raftAddress, String apiEndpoint) {}
