import ArgumentParser
import Engine

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply the ledger's schema migrations that are missing.",
        discussion: """
            On a database whose ledger tables another program (the bot itself) created, plain migrate refuses; \
            --adopt compares those tables with what the engine needs, refuses anything incompatible (exit 4, nothing \
            changed), otherwise adds only what is missing (columns with constant defaults, indexes built concurrently, \
            constraints validated without blocking writes) and records the baseline. --dry-run prints the plan only.
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Flag(help: "Take over ledger tables that bot-engine did not create.") var adopt = false
    @Flag(name: .customLong("dry-run"), help: "With --adopt: print the plan, change nothing.") var dryRun = false

    func validate() throws {
        if dryRun, !adopt { throw ValidationError("--dry-run goes with --adopt") }
    }

    func run() async throws {
        do {
            guard adopt else {
                let applied = try await database.withConnection { try await Migrator().migrate($0) }
                print(applied.isEmpty ? "schema up to date" : "applied migrations \(applied.map(String.init).joined(separator: ", "))")
                return
            }
            let result = try await database.withConnection { try await Migrator().adopt($0, dryRun: dryRun) }
            if result.alreadyManaged {
                print("the ledger is already bot-engine's (schema_migrations exists): nothing to adopt")
            } else {
                print(result.plan.text)
            }
            if dryRun {
                print("dry run: nothing was changed")
            } else if !result.baseline.isEmpty {
                print("adopted: migrations \(result.baseline.map(String.init).joined(separator: ", ")) recorded as the baseline"
                      + (result.applied.isEmpty ? "" : "; applied migrations \(result.applied.map(String.init).joined(separator: ", "))"))
            } else {
                print(result.applied.isEmpty ? "schema up to date" : "applied migrations \(result.applied.map(String.init).joined(separator: ", "))")
            }
        } catch let refusal as AdoptionRefused {
            printError("Error: \(refusal)")
            throw ExitCode(4)
        } catch let timeout as AdoptionLockTimeout {
            printError("Error: \(timeout)")
            throw ExitCode(4)
        } catch let stopped as AdoptionInterrupted {
            // The database holds part of the adoption: someone has to look, then run it again.
            printError("Error: \(stopped)")
            throw ExitCode(5)
        } catch let refusal as MigrationError {
            switch refusal {
            case .adoptionNeeded, .foreignHistory:
                printError("Error: \(refusal)")
                throw ExitCode(4)
            default:
                throw refusal
            }
        }
    }
}
