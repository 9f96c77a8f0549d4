package depot.cli.commands;

import depot.cli.ApiClient;
import depot.cli.CliContext;
import depot.cli.CommandBase;
import java.net.http.HttpResponse;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** Deletes a file and all its replicas. */
@Command(name = "delete", mixinStandardHelpOptions = true, description = "Delete a deposited file.")
public final class DeleteCommand extends CommandBase {

  @Parameters(index = "0", paramLabel = "NAME", description = "The file's name on the server.")
  String name;

  public DeleteCommand(CliContext ctx) {
    super(ctx);
  }

  @Override
  protected void execute() throws Exception {
    ApiClient api = clientApi();
    api.requireSuccess(api.send(api.request(ApiClient.filePath(name)).DELETE().build(),
        HttpResponse.BodyHandlers.ofString()));
    ctx.out().println("Deleted " + name);
  }
}
