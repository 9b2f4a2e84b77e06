import BotOpsKit
import Testing

/// A playbook whose steps run in an order that reads a fact before its producer (or measures the
/// host after it changed) is refused at parse time (exit 2), naming the step, the step it must
/// follow, why, and the file and line: it would otherwise run and misbehave.
@Suite struct PlaybookOrderTests {
    static let deploy = Playbook.Kind.deploy.builtInText
    static let rollback = Playbook.Kind.rollback.builtInText

    /// The shipped playbooks with the step `name` (its block, up to the next step) moved to just
    /// before the step `before`.
    static func moving(_ name: String, before: String, in text: String) throws -> String {
        var blocks = text.components(separatedBy: "\n  - name: ")
        let head = blocks.removeFirst()
        let index = try #require(blocks.firstIndex { $0.hasPrefix(name + "\n") })
        var block = blocks.remove(at: index)
        if !block.hasSuffix("\n") { block += "\n" }
        for i in blocks.indices where !blocks[i].hasSuffix("\n") { blocks[i] += "\n" }
        let target = try #require(blocks.firstIndex { $0.hasPrefix(before + "\n") })
        blocks.insert(block, at: target)
        return ([head] + blocks).joined(separator: "\n  - name: ")
    }

    func refusal(_ text: String, kind: Playbook.Kind) -> ConfigError? {
        #expect(throws: ConfigError.self) { try Playbook.parse(text, file: "/etc/botops/playbooks/\(kind.fileName)", kind: kind) }
    }

    @Test func theShippedOrderIsAccepted() throws {
        _ = try Playbook.parse(Self.deploy, file: "deploy.yml", kind: .deploy)
        _ = try Playbook.parse(Self.rollback, file: "rollback.yml", kind: .rollback)
    }

    @Test(arguments: [
        // (playbook, step moved, moved before, the step it must follow)
        ("deploy", "wait-healthy", "up", "up"),
        ("deploy", "wait-healthy", "stop", "stop"),
        ("deploy", "checks", "up", "wait-healthy"),
        // The first rule broken is named: here the checks run before wait-healthy too.
        ("deploy", "checks", "checkout", "wait-healthy"),
        ("deploy", "keep-image", "preflight", "preflight"),
        ("deploy", "checkout", "keep-image", "keep-image"),
        ("rollback", "wait-healthy", "up", "up"),
        ("rollback", "checks", "wait-healthy", "wait-healthy"),
        ("rollback", "stop", "restore-image", "restore-image"),
    ])
    func aStepBeforeAStepItMustFollowIsRefused(playbook: String, moved: String, before: String, follows: String) throws {
        let kind = try #require(Playbook.Kind(rawValue: playbook))
        let text = try Self.moving(moved, before: before, in: kind.builtInText)
        let error = try #require(refusal(text, kind: kind))
        let line = try #require(text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0 == "  - name: \(moved)" }) + 1
        #expect(error.file == "/etc/botops/playbooks/\(kind.fileName)" && error.line == line, "\(error)")
        #expect(error.problem.contains("step '\(moved)'") && error.problem.contains("runs before step '\(follows)'") && error.problem.contains("it must come after it: "), "\(error)")
        #expect(error.exitCode == .usage)
    }

    /// Steps that measure or keep what ran before anything changes come before what changes it
    /// (the first change found before it is named).
    @Test(arguments: [("baseline", "checkout"), ("keep-image", "stop"), ("baseline", "stop")])
    func aStepOfTheHostBeforeTheChangeAfterItIsRefused(late: String, change: String) throws {
        // The change moved to just before it.
        let text = try Self.moving(change, before: late, in: Self.deploy)
        let error = try #require(refusal(text, kind: .deploy))
        #expect(error.problem.contains("runs before step '\(late)'") && error.problem.contains("it must come after it: "), "\(error)")
    }

    /// The containers start from the revision the checkout moved to: started before it, they run
    /// the revision that ran, and a deploy's checks would pass (and record) that as the new release.
    @Test(arguments: [Playbook.Kind.deploy, .rollback])
    func theContainersStartAfterTheCheckout(kind: Playbook.Kind) throws {
        let text = try Self.moving("checkout", before: "wait-healthy", in: kind.builtInText)
        let error = try #require(refusal(text, kind: kind))
        let line = try #require(text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0 == "  - name: up" }) + 1
        #expect(error.line == line && error.problem.contains("step 'up' (touches: containers) runs before step 'checkout'"), "\(error)")
    }

    /// A `run:` step taken as `touches: containers` (undeclared, no stop step) is named as such,
    /// with the key that says otherwise.
    @Test func anUndeclaredRunStepTakenAsStartingTheContainersSaysSo() throws {
        let text = """
            steps:
              - {name: lock, builtin: lock}
              - {name: preflight, builtin: preflight}
              - {name: pull, run: "docker pull x"}
              - {name: keep-image, builtin: keep-image}
              - {name: checkout, builtin: checkout}
              - {name: wait-healthy, builtin: wait-healthy}
              - {name: checks, builtin: checks}

            """
        let error = try #require(refusal(text, kind: .deploy))
        #expect(error.line == 4 && error.problem.contains("step 'pull' (taken as 'touches: containers'; say 'touches: nothing-running' if it is not) runs before step 'keep-image'"), "\(error)")
        _ = try Playbook.parse(text.replacing("docker pull x\"}", with: "docker pull x\", touches: nothing-running}"), file: "deploy.yml", kind: .deploy)
    }
}
