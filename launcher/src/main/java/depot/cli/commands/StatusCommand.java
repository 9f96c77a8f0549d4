package depot.cli.commands;

import depot.cli.ApiClient;
import depot.cli.CliContext;
import depot.cli.HumanSize;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * An fsck-like report of the whole cluster: files healthy, under-replicated and lost; nodes live and
 * dead; bytes used and free. An administrator's view: it takes the admin token.
 */
@Command(name = "status", mixinStandardHelpOptions = true,
    description = "Report the cluster's health: files, nodes and capacity (admin).")
public final class StatusCommand extends AdminCommandBase {
  @Option(names = "--json", description = "Print the figures as one JSON object.")
  boolean json;

  public StatusCommand(CliContext ctx) {
    super(ctx);
  }

  @Override
  protected void execute() throws Exception {
    ApiClient api = adminApi();
    JsonObject stats = getJson(api, "/api/v1/stats");
    JsonArray nodes = getJson(api, ApiClient.NODES).getJsonArray("nodes", new JsonArray());
    List<String> dead = new ArrayList<>();
    long live = 0;
    long used = 0;
    long free = 0;
    for (Object o : nodes) {
      JsonObject n = (JsonObject) o;
      if ("UP".equals(n.getString("status"))) {
        live++;
        used += n.getLong("diskUsed", 0L);
        free += n.getLong("diskFree", 0L);
      } else {
        dead.add(n.getString("id"));
      }
    }
    long lost = stats.getLong("lost", 0L);
    long under = stats.getLong("underReplicated", 0L);
    String verdict = lost > 0 ? "LOST FILES" : under > 0 || !dead.isEmpty() ? "AT RISK" : "HEALTHY";
    JsonObject report = new JsonObject()
        .put("status", verdict)
        .put("leader", stats.getString("leader"))
        .put("files", stats.getLong("files", 0L))
        .put("healthy", stats.getLong("healthy", 0L))
        .put("underReplicated", under)
        .put("lost", lost)
        .put("bytesStored", stats.getLong("bytes", 0L))
        .put("nodesLive", live)
        .put("nodesDead", dead.size())
        .put("deadNodes", new JsonArray(dead))
        .put("diskUsed", used)
        .put("diskFree", free);
    if (json) {
      ctx.out().println(report.encode());
      return;
    }
    ctx.out().println("Status:   " + verdict + (stats.getString("leader") != null
        ? "   (leading coordinator: " + stats.getString("leader") + ")" : ""));
    ctx.out().println("Files:    " + report.getLong("files") + " (" + report.getLong("healthy") + " healthy, "
        + under + " under-replicated, " + lost + " lost), " + HumanSize.format(report.getLong("bytesStored"))
        + " stored");
    ctx.out().println("Nodes:    " + live + " live, " + dead.size() + " dead"
        + (dead.isEmpty() ? "" : ": " + String.join(", ", dead)));
    ctx.out().println("Capacity: " + HumanSize.format(used) + " used, " + HumanSize.format(free) + " free (summed over live storage nodes)");
  }

}
