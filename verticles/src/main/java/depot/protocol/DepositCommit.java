package depot.protocol;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/**
 * The last step of a deposit, wherever its body was received (the gateway relaying it, or the pipeline's
 * head taking it directly): the pipeline's report is checked against what the client announced and the
 * write quorum, then the coordinator commits the file; or the allocation is given up.
 */
public final class DepositCommit {
  private static final Logger log = LoggerFactory.getLogger(DepositCommit.class);

  private DepositCommit() {}

  /**
   * @param deposit    the deposit as the client described it: owner, name, size, replicas?, sha256?
   * @param allocation the coordinator's allocation (uploadId, blobId, pipeline, replicas, writeQuorum)
   * @param result     the pipeline head's report: sha256, stored, failed
   * @return the committed file record
   */
  public static Future<JsonObject> commit(LeaderRequests leader, JsonObject deposit, JsonObject allocation,
                                          JsonObject result) {
    String sha = result.getString("sha256");
    String announced = deposit.getString("sha256");
    if (announced != null && !announced.equals(sha)) {
      return Future.failedFuture(new DepotException(ErrorCode.HASH_MISMATCH,
          "the body's SHA-256 is " + sha + ", not the announced " + announced));
    }
    List<String> stored = new ArrayList<>();
    result.getJsonArray("stored", new JsonArray()).forEach(o -> stored.add(((JsonObject) o).getString("node")));
    if (!result.getJsonArray("failed", new JsonArray()).isEmpty()) {
      log.warn("deposit of '{}': replicas failed {}", deposit.getString("name"), result.getJsonArray("failed").encode());
    }
    int quorum = allocation.getInteger("writeQuorum");
    if (stored.size() < quorum) {
      return Future.failedFuture(new DepotException(ErrorCode.UNAVAILABLE,
          "only " + stored.size() + " of the required " + quorum + " replicas could be written"));
    }
    // The commit repeats what the allocation said, so a coordinator that took over meanwhile can complete it.
    JsonArray nodes = new JsonArray();
    allocation.getJsonArray("pipeline").forEach(hop -> nodes.add(((JsonObject) hop).getString("nodeId")));
    JsonObject commit = deposit.copy().put("uploadId", allocation.getString("uploadId")).put("sha256", sha)
        .put("blobId", allocation.getString("blobId")).put("replicas", allocation.getInteger("replicas"))
        .put("nodes", nodes).put("stored", new JsonArray(stored));
    commit.remove("exclude");
    return leader.<JsonObject>request(Addresses.COORDINATOR_DEPOSIT_COMMIT, commit, 15_000)
        .map(reply -> reply.body())
        .recover(err -> Future.failedFuture(DepotException.from(err)));
  }

  /** Gives the allocation up: the coordinator forgets it and has the replicas written so far removed. */
  public static void abort(Vertx vertx, JsonObject allocation) {
    vertx.eventBus().request(Addresses.COORDINATOR_DEPOSIT_ABORT,
        new JsonObject().put("uploadId", allocation.getString("uploadId")));
  }
}
