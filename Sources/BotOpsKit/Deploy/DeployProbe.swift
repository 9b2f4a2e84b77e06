import HostCommands
import Remote

/// What a ref names in the checkout, without a fetch: a local branch, or a revision.
struct LocalRef: Equatable, Sendable {
    var isBranch: Bool
    var revision: String
}

extension DeployCommands {
    /// The image each of `tags` names, for those that exist: "TAG ID" lines.
    func imageIDs(_ tags: [String], timeout: Duration) -> HostProbe<[String: String]> {
        HostProbe("image IDs", RemoteCommand(.lines(tags.map { "id=$(docker image inspect -f '{{.Id}}' \($0) 2>/dev/null) && echo \($0) \"$id\"" } + ["true"]), timeout: timeout)) { result in
            var idOf: [String: String] = [:]
            for line in result.stdoutText.split(separator: "\n") {
                let words = line.split(separator: " ").map(String.init)
                if words.count == 2 { idOf[words[0]] = words[1] }
            }
            return idOf
        }
    }

    /// `ref` as a local branch, else as a revision; nil when it names neither.
    func resolveLocal(_ ref: String, timeout: Duration) -> HostProbe<LocalRef?> {
        HostProbe("git rev-parse of \(ref)", RemoteCommand(inCheckout("""
            if sha=$(git rev-parse -q --verify \("refs/heads/" + ref + "^{commit}")); then echo "branch $sha"
            elif sha=$(git rev-parse -q --verify \(ref + "^{commit}")); then echo "revision $sha"; fi
            true
            """), timeout: timeout)) { result in
            let words = result.stdoutText.split(whereSeparator: \.isWhitespace).map(String.init)
            guard words.count == 2 else { return nil }
            return LocalRef(isBranch: words[0] == "branch", revision: words[1])
        }
    }
}
