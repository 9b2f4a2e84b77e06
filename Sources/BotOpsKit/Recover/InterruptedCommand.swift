import HostState

/// The command a leftover deploy-lock holder record names (every command that takes the lock
/// writes one), with what its interruption may have left and what to run about it: recover
/// repairs services, files and cron, but finishes or undoes none of these commands.
struct InterruptedCommand: Equatable {
    /// "a deploy", "a cron install", "botops frobnicate" for a command this botops does not know.
    let name: String
    let advice: String

    /// `config` names the host's backup directory and database, for the advice that needs them.
    init(_ holder: LockHolder, config: BotOpsConfig) {
        let words = holder.command.split(separator: " ").map(String.init)
        // The holder's command line starts with botops (any path to it), then the subcommand.
        let rest = words.first.map { $0.hasSuffix("botops") } == true ? Array(words.dropFirst()) : words
        let subcommand = rest.first ?? "?"
        let again = "run it again: \(holder.command)"
        switch subcommand {
        case "deploy", "rollback":
            name = "a \(subcommand)"
            advice = "services it left stopped are restarted by botops recover --yes; botops status then shows the release each service runs: deploy again, or botops rollback --to previous"
        case "install-host":
            name = "an install-host"
            advice = "the files it copies to ~/botops on the host may be partly copied (each file whole, old or new): \(again)"
        case "backup":
            name = "a backup"
            // Its dump goes on on the host and is renamed into place before the record is written.
            let backups = BackupScripts(config: config).directory.path
            advice = "that backup was not recorded (botops backups lists those that are), but a dump it finished meanwhile stays in \(backups) as ID.dump and ID.roles.sql without ID.json, never listed or pruned: remove those by hand, then \(again)"
        case "restore":
            name = "a restore"
            // A killed restore writes no audit line and its holder's step stays "lock": nothing on
            // the host says how far it got, so the advice holds whichever step it reached.
            advice = "the ledger may be the old or the restored one, and the live database may be closed to connections (the bot cannot reach it): open it again with: \(RestoreScripts.reopenLiveCommand(BackupScripts(config: config))); then, if the restore is wanted, \(again)"
        case "recover":
            name = "a recover"
            advice = "this recover repeats its repairs"
        case "cron":
            name = "a cron \(rest.dropFirst().first ?? "change")"
            // recover's cron step installs HEAD's crontab.d after this, so a `cron restore` would
            // undo that install, not the interrupted change.
            advice = "crontab installs a crontab whole, so it is the old or the new one, and this recover's cron step installs crontab.d as committed at the host's HEAD over it: for any other schedule, \(again) after recover (botops cron restore --list names the crontab saved before each change)"
        default:
            name = "botops \(subcommand)"
            advice = again
        }
    }

    /// The diagnosis line.
    func broken(_ holder: LockHolder) -> String {
        "\(name) was interrupted and never released the lock: \(holder.summary). \(advice.prefix(1).uppercased() + advice.dropFirst())."
    }
}
