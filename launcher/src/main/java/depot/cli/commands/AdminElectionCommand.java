package depot.cli.commands;

import depot.cli.ApiClient;
import depot.cli.CliContext;
import depot.cli.CliException;
import depot.cli.Table;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The rank-based elections of the coordinators and directories: who stands, who leads, in which term. */
@Command(name = "election", mixinStandardHelpOptions = true,
    description = {"Show the coordinator and directory elections (candidates, ranks, leader, term).",
        "With --trigger, run a new election: the leader steps down and the best candidate takes over."})
public final class AdminElectionCommand extends AdminCommandBase {
  @Option(names = "--trigger", description = "Run a new election in the group and wait for its result.")
  boolean trigger;

  @Option(names = "--group", paramLabel = "GROUP", defaultValue = "coordinator",
      description = "With --trigger: coordinator (default) or directory.")
  String group;

  @Option(names = "--json", description = "Print the server's JSON as is.")
  boolean json;

  public AdminElectionCommand(CliContext ctx) {
    super(ctx);
  }

  @Override
  protected void execute() throws Exception {
    ApiClient api = adminApi();
    String body;
    if (trigger) {
      if (!group.equals("coordinator") && !group.equals("directory")) {
        throw new CliException("--group must be coordinator or directory");
      }
      HttpRequest post = api.request("/api/v1/admin/election").header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("group", group).encode())).build();
      body = api.requireSuccess(api.send(post, HttpResponse.BodyHandlers.ofString()));
    } else {
      body = get(api, "/api/v1/admin/election");
    }
    if (json) {
      ctx.out().println(body.strip());
      return;
    }
    JsonObject result = ApiClient.parseJson(body);
    Table table = new Table("GROUP", "NODE", "RANK", "TERM", "ROLE", "CATALOG").alignRight(2, 3, 5);
    for (String g : new String[] {"coordinator", "directory"}) {
      JsonObject election = result.getJsonObject(g, new JsonObject());
      for (Object o : election.getJsonArray("candidates", new JsonArray())) {
        JsonObject c = (JsonObject) o;
        String role = c.getBoolean("leader", false) ? "LEADER" : c.getBoolean("eligible", false) ? "standby" : "catching up";
        table.row(g, c.getString("nodeId"), String.valueOf(c.getValue("rank")), String.valueOf(c.getValue("term")), role,
            g.equals("coordinator") ? "lamport " + c.getValue("progress") : "");
      }
    }
    table.print(ctx.out());
    for (String g : new String[] {"coordinator", "directory"}) {
      JsonObject election = result.getJsonObject(g, new JsonObject());
      ctx.out().println(g + " leader: " + (election.getString("leader") == null ? "none" : election.getString("leader"))
          + " (term " + election.getValue("term") + ")");
    }
    if (trigger) {
      ctx.out().println(result.getBoolean("elected", false)
          ? "new election in " + group + " decided in " + result.getValue("electedInMs") + " ms (was term "
              + result.getValue("previousTerm") + ")"
          : "no new " + group + " leader within the failover window");
    }
  }
}
