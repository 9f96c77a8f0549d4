package depot.node;

import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.UUID;

/**
 * Who this node is: its id (from config, else generated once and kept in {@code <dataDir>/node.json}),
 * the rank the directory gave it (kept there too, so it survives restarts), and a per-process instance id
 * that tells a restarted node from a twin using the same name.
 */
public final class NodeIdentity {
  private final Path file;
  private final String nodeId;
  private final String instanceId = UUID.randomUUID().toString();
  private volatile int rank;

  private NodeIdentity(Path file, String nodeId, int rank) {
    this.file = file;
    this.nodeId = nodeId;
    this.rank = rank;
  }

  /** Blocking: call from a worker or before the event loop starts. */
  public static NodeIdentity load(Path dataDir, String configuredId) {
    try {
      Files.createDirectories(dataDir);
      Path file = dataDir.resolve("node.json");
      JsonObject stored = Files.exists(file)
          ? new JsonObject(Files.readString(file, StandardCharsets.UTF_8)) : new JsonObject();
      String id = configuredId != null && !configuredId.isBlank() ? configuredId : stored.getString("nodeId");
      if (id == null) {
        id = "node-" + UUID.randomUUID().toString().substring(0, 8);
      }
      int rank = id.equals(stored.getString("nodeId")) ? stored.getInteger("rank", 0) : 0;
      NodeIdentity identity = new NodeIdentity(file, id, rank);
      identity.save();
      return identity;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read or write node identity in " + dataDir, e);
    }
  }

  public String nodeId() {
    return nodeId;
  }

  public String instanceId() {
    return instanceId;
  }

  public int rank() {
    return rank;
  }

  /** Blocking: records the rank assigned by the directory. */
  public void rememberRank(int newRank) {
    if (newRank != rank) {
      rank = newRank;
      save();
    }
  }

  private void save() {
    try {
      Path tmp = file.resolveSibling("node.json.tmp");
      Files.writeString(tmp, new JsonObject().put("nodeId", nodeId).put("rank", rank).encodePrettily());
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
