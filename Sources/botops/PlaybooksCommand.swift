import ArgumentParser
import BotOpsKit
import Foundation

/// `botops playbooks export DIR`: the playbooks built into botops, written out for editing. A file
/// in botops.yml's playbooks directory then replaces its built-in counterpart.
struct PlaybooksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "playbooks",
        abstract: "The deploy and rollback playbooks built into botops.",
        subcommands: [Export.self]
    )

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the built-in deploy.yml and rollback.yml into DIR, to edit them.",
            discussion: """
                deploy and rollback use the file of each name in botops.yml's playbooks directory \
                (default: playbooks/ beside botops.yml) and the built-in one when there is none. \
                Existing files are left alone unless --force.
                """
        )

        @Argument(help: ArgumentHelp("The directory to write into (created when missing).", valueName: "dir"))
        var directory: String

        @Flag(name: .long, help: "Overwrite deploy.yml and rollback.yml when DIR has them already.")
        var force = false

        func run() throws {
            do {
                for path in try PlaybookExport(directory: directory).write(overwrite: force) { print(path) }
            } catch let error as PlaybookExportError {
                FileHandle.standardError.write(Data("botops: \(error)\n".utf8))
                throw ExitCode(error.exitCode.rawValue)
            }
        }
    }
}
