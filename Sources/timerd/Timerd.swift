// timerd: the Service Vault Timers server and its operator commands.
//
//   timerd serve    serve gRPC (health, reflection; the timer service)
//   timerd migrate  bring the database schema up to date
//   timerd admin …  create users, accounts, members, projects, rates, tokens
//   timerd purge    delete stopped timers older than N days
//
// Every flag has a TIMERD_* environment variable; a flag given on the command
// line wins over its variable. Errors are one line on standard error and a
// non-zero exit status.
import ArgumentParser

@main
struct Timerd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "timerd",
        abstract: "The Service Vault Timers server and its operator commands.",
        discussion: """
            Every flag can also be set by the TIMERD_* environment variable named in its \
            help; a flag on the command line wins over the variable.
            """,
        subcommands: [Serve.self, Migrate.self, Admin.self, Purge.self])
}
