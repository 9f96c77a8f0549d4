package depot.cli.commands;

import depot.cli.ApiClient;
import depot.cli.CliContext;
import depot.cli.HumanSize;
import depot.cli.Table;
import depot.cli.TimeFormat;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Shows the cluster's nodes; an administrator's view, so it takes the admin token, not a client's. */
@Command(name = "nodes", mixinStandardHelpOptions = true, description = "Show the cluster's nodes (admin).")
public final class NodesCommand extends AdminCommandBase {

  @Option(names = "--json", description = "Print the server's JSON as is.")
  boolean json;

  public NodesCommand(CliContext ctx) {
    super(ctx);
  }

  @Override
  protected void execute() throws Exception {
    String body = get(adminApi(), ApiClient.NODES);
    if (json) {
      ctx.out().println(body.strip());
      return;
    }
    JsonArray nodes = ApiClient.parseJson(body).getJsonArray("nodes", new JsonArray());
    Table table = new Table("ID", "ROLES", "HOST", "RANK", "STATUS", "LAST BEAT", "DISK USED", "DISK FREE", "REPLICAS")
        .alignRight(3, 6, 7, 8);
    Instant now = Instant.now();
    boolean anyLeader = false;
    for (Object item : nodes) {
      JsonObject n = (JsonObject) item;
      boolean leader = Boolean.TRUE.equals(n.getValue("leader"));
      anyLeader |= leader;
      JsonArray roles = n.getJsonArray("roles", new JsonArray());
      table.row(n.getValue("id") + (leader ? "*" : ""),
          roles.isEmpty() ? "-" : String.join(",", roles.stream().map(String::valueOf).toList()),
          n.getValue("host"),
          n.getValue("rank"),
          Boolean.TRUE.equals(n.getValue("heapFull")) ? n.getValue("status") + ",HEAP-FULL" : n.getValue("status"),
          TimeFormat.ago(TimeFormat.parse(n.getValue("lastHeartbeat")), now),
          bytes(n.getValue("diskUsed")),
          bytes(n.getValue("diskFree")),
          n.getValue("replicas"));
    }
    table.print(ctx.out());
    if (anyLeader) {
      ctx.out().println("* leader");
    }
    if (nodes.stream().anyMatch(n -> Boolean.TRUE.equals(((JsonObject) n).getValue("heapFull")))) {
      ctx.out().println("HEAP-FULL: takes no new replica, its heap is nearly full (heapLimitPercent)");
    }
  }

  private static String bytes(Object value) {
    return value instanceof Number n ? HumanSize.format(n.longValue()) : "-";
  }
}
