@testable import BotOpsKit
import Checks
import Foundation
import Testing

/// What recover may never do, checked on its playbook and its code; and what its playbook may say.
@Suite struct RecoverSafetyTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let forbidden = [
        "volume rm", "volume prune", "system prune", "docker rm ", "down -v", "DROP ", "TRUNCATE", "dropdb", "DELETE FROM",
        "crontab -r", "reset --hard", "clean -f", "clean -d", "rm -rf", "checkout -f", "git stash", "restore --staged", "pg_restore",
    ]

    @Test func recoversCodeAndPlaybookNameNoDestructiveCommand() throws {
        let directory = Self.root.appendingPathComponent("Sources/BotOpsKit/Recover")
        var files = try FileManager.default.contentsOfDirectory(atPath: directory.path).map { directory.appendingPathComponent($0) }
        files += [Self.root.appendingPathComponent("playbooks/recover.yml"), Self.root.appendingPathComponent("Sources/botops/Recover.swift")]
        #expect(files.count >= 5)
        for file in files {
            let text = try String(contentsOf: file, encoding: .utf8)
            for word in Self.forbidden {
                #expect(!text.localizedCaseInsensitiveContains(word), "\(file.lastPathComponent) contains '\(word)'")
            }
        }
    }

    @Test func theShippedPlaybookIsTheBuiltInOne() throws {
        let shipped = try RecoverPlaybook.load(directory: Self.root.appendingPathComponent("playbooks").path)
        #expect(shipped.steps == RecoverPlaybook.builtIn.steps)
    }

    @Test func anOverrideMayDisableOrReorderButNeverRunACommand() throws {
        let reordered = try RecoverPlaybook.parse("""
            steps:
              - name: diagnose
              - name: database
              - name: files
                enabled: false
              - name: cron
              - name: checks
            """, file: "recover.yml")
        #expect(reordered.steps == [.diagnose, .database, .cron, .checks])
        #expect(throws: ConfigError.self) {
            try RecoverPlaybook.parse("steps:\n  - name: diagnose\n  - name: wipe\n    run: docker volume prune -f\n", file: "recover.yml")
        }
        let refused = #expect(throws: ConfigError.self) {
            try RecoverPlaybook.parse("steps:\n  - name: diagnose\n  - name: files\n    run: git stash\n", file: "recover.yml")
        }
        #expect(refused.map { "\($0)".contains("'run:' command is refused") } == true)
        #expect(throws: ConfigError.self) { try RecoverPlaybook.parse("steps:\n  - name: files\n  - name: diagnose\n", file: "recover.yml") }
        #expect(throws: ConfigError.self) { try RecoverPlaybook.parse("steps:\n  - name: diagnose\n  - name: checks\n  - name: cron\n", file: "recover.yml") }
        #expect(throws: ConfigError.self) { try RecoverPlaybook.parse("steps:\n  - name: diagnose\n  - name: made-up\n", file: "recover.yml") }
    }
}

/// recover says "all nine pass" and exits 0 only when each of the nine ran and passed.
@Suite struct RecoverChecksVerdictTests {
    static let allPass = CheckID.allCases.map { (id: $0, status: CheckStatus.pass) }

    @Test func allNinePassingIsAPass() {
        #expect(Recoverer.checksVerdict(Self.allPass).allPass)
    }

    @Test(arguments: [CheckStatus.warn, .skip, .fail])
    func aCheckThatDidNotPassIsNotCountedAsPassing(_ status: CheckStatus) {
        var results = Self.allPass
        results[0].status = status
        let verdict = Recoverer.checksVerdict(results)
        #expect(!verdict.allPass)
        #expect(!verdict.message.contains("all"), "\(verdict.message)")
        #expect(verdict.message.contains("\(results[0].id.rawValue) \(status.rawValue)"))
    }

    @Test func aCheckThatNeverRanIsNotCountedAsPassing() {
        let verdict = Recoverer.checksVerdict(Array(Self.allPass.dropLast()))
        #expect(!verdict.allPass)
        #expect(verdict.message.contains("\(CheckID.allCases.last!.rawValue) not run"))
    }
    /// Only a missing file falls back to the built-in steps: a dangling symlink is an override gone wrong.
    @Test func aDanglingRecoverPlaybookIsAnErrorNotTheBuiltInSteps() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("recover-playbook-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(try RecoverPlaybook.load(directory: directory.path) == RecoverPlaybook.builtIn)
        try FileManager.default.createSymbolicLink(atPath: directory.appendingPathComponent("recover.yml").path, withDestinationPath: "/nonexistent/recover.yml")
        #expect(throws: ConfigError.self) { try RecoverPlaybook.load(directory: directory.path) }
    }
}
