import HostCommands
import Remote

/// A read-only host fact of deploy: the command that reads it and the parser of its output,
/// defined once, so every reader of the fact reads it the same way.
// FIXME: a generic host probe type is coming in HostCommands; this one is to be unified with it.
struct DeployProbe<Fact>: Sendable {
    let command: RemoteCommand
    let parse: @Sendable (String) -> Fact
}

extension CommandRunner {
    /// Runs `probe` and parses its standard output.
    func read<Fact>(_ probe: DeployProbe<Fact>) async throws -> Fact {
        probe.parse(try await run(probe.command).stdout)
    }
}

/// What a ref names in the checkout, without a fetch: a local branch, or a revision.
struct LocalRef: Equatable {
    var isBranch: Bool
    var revision: String
}

extension DeployCommands {
    /// The image each of `tags` names, for those that exist: "TAG ID" lines.
    func imageIDs(_ tags: [String], timeout: Duration) -> DeployProbe<[String: String]> {
        DeployProbe(command: RemoteCommand(.lines(tags.map { "id=$(docker image inspect -f '{{.Id}}' \($0) 2>/dev/null) && echo \($0) \"$id\"" } + ["true"]), timeout: timeout)) { stdout in
            var idOf: [String: String] = [:]
            for line in stdout.split(separator: "\n") {
                let words = line.split(separator: " ").map(String.init)
                if words.count == 2 { idOf[words[0]] = words[1] }
            }
            return idOf
        }
    }

    /// `ref` as a local branch, else as a revision; nil when it names neither.
    func resolveLocal(_ ref: String, timeout: Duration) -> DeployProbe<LocalRef?> {
        DeployProbe(command: RemoteCommand(inCheckout("""
            if sha=$(git rev-parse -q --verify \("refs/heads/" + ref + "^{commit}")); then echo "branch $sha"
            elif sha=$(git rev-parse -q --verify \(ref + "^{commit}")); then echo "revision $sha"; fi
            true
            """), timeout: timeout)) { stdout in
            let words = stdout.split(whereSeparator: \.isWhitespace).map(String.init)
            guard words.count == 2 else { return nil }
            return LocalRef(isBranch: words[0] == "branch", revision: words[1])
        }
    }
}
