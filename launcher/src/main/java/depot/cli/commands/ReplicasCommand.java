package depot.cli.commands;

import depot.cli.ApiClient;
import depot.cli.CliContext;
import depot.cli.CliException;
import depot.cli.CommandBase;
import depot.cli.FileRecord;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpRequest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** Changes how many copies of a file the cluster keeps. */
@Command(name = "replicas", mixinStandardHelpOptions = true, description = "Change a file's number of replicas.")
public final class ReplicasCommand extends CommandBase {

  @Parameters(index = "0", paramLabel = "NAME", description = "The file's name on the server.")
  String name;

  @Parameters(index = "1", paramLabel = "N", description = "Desired number of replicas.")
  int replicas;

  public ReplicasCommand(CliContext ctx) {
    super(ctx);
  }

  @Override
  protected void execute() throws Exception {
    if (replicas < 1) {
      throw new CliException("replicas must be at least 1", 2, null);
    }
    ApiClient api = clientApi();
    HttpRequest request = api.request(ApiClient.filePath(name) + "/replicas")
        .header("Content-Type", "application/json")
        .PUT(HttpRequest.BodyPublishers.ofString(new JsonObject().put("replicas", replicas).encode()))
        .build();
    FileRecord record = FileRecord.fromJson(api.sendForJson(request));
    ctx.out().println((record.name() != null ? record.name() : name) + ": replicas " + record.replicasText());
    warnOfMissingReplicas(record, name);
  }
}
