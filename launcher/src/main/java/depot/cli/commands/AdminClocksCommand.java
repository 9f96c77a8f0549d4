package depot.cli.commands;

import depot.cli.ApiClient;
import depot.cli.CliContext;
import depot.cli.Table;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The last Berkeley clock-synchronisation round: each node's offset from the master and its correction. */
@Command(name = "clocks", mixinStandardHelpOptions = true,
    description = "Show the nodes' clock offsets and the corrections the leading coordinator sent them.")
public final class AdminClocksCommand extends AdminCommandBase {
  @Option(names = "--json", description = "Print the server's JSON as is.")
  boolean json;

  public AdminClocksCommand(CliContext ctx) {
    super(ctx);
  }

  @Override
  protected void execute() throws Exception {
    String body = get(adminApi(), "/api/v1/clocks");
    if (json) {
      ctx.out().println(body.strip());
      return;
    }
    JsonObject round = ApiClient.parseJson(body);
    Table table = new Table("NODE", "OFFSET", "CORRECTION", "ROUND TRIP").alignRight(1, 2, 3);
    for (Object o : round.getJsonArray("nodes", new JsonArray())) {
      JsonObject n = (JsonObject) o;
      table.row(n.getString("id") + (n.getString("id").equals(round.getString("master")) ? " (master)" : ""),
          n.getValue("offsetMs") + " ms", n.getValue("correctionMs") + " ms", n.getValue("rttMs") + " ms");
    }
    table.print(ctx.out());
    ctx.out().println("Berkeley round at " + round.getString("at") + " by " + round.getString("master")
        + "; agreed time = master + " + round.getValue("agreedOffsetMs") + " ms");
  }
}
