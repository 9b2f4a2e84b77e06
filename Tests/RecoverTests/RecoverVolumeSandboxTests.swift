@testable import BotOpsKit
import Foundation
import Remote
import SandboxSupport
import Testing

/// Recover reads the database's volume through deploy's probe of the container, so it finds the
/// volume, and the cluster in it, when the volume is mounted above the data directory and PGDATA
/// sits two folders down in it. A throwaway container and volume, never the sandbox's db.
@Suite(.serialized, .enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct RecoverVolumeSandboxTests {
    static let name = "botops-test-recover-volume"
    static let image = "botops-base:bookworm"

    @Test func aVolumeMountedAboveTheDataDirectoryIsFoundWithItsCluster() async throws {
        try await HostScene.withLock {
            let host = LocalHost()
            let (name, image) = (Self.name, Self.image)
            let cleanup = "docker rm -f \(name) >/dev/null 2>&1; docker volume rm \(name) >/dev/null 2>&1; true"
            _ = try await host.run(cleanup, timeout: .seconds(60))
            do {
                let setUp = try await host.run("""
                    docker volume create \(name) >/dev/null &&
                    docker run --rm --network none -v \(name):/v --entrypoint sh \(image) -c 'mkdir -p /v/data/pgdata && echo 15 >/v/data/pgdata/PG_VERSION' &&
                    docker run -d --name \(name) --network none -v \(name):/var/lib/postgresql -e PGDATA=/var/lib/postgresql/data/pgdata --entrypoint sleep \(image) 300 >/dev/null
                    """, timeout: .seconds(120))
                try #require(setUp.succeeded, "\(setUp.stderrText)")
                let probed = try await host.run(RunningDatabase.probe(container: name, timeout: .seconds(30)))
                let database = try #require(RunningDatabase.read(stdout: probed.stdout, container: name), "\(probed.shownOutput)")
                let judged = try await RecoverFacts.judgeVolume(of: database, on: host)
                #expect(judged?.volume == name && judged?.state == .cluster, "\(String(describing: judged))")
                // Looking only at the volume's top and one folder down (as recover once did) finds no cluster there.
                let shallow = try await host.run(RecoverFacts.volumeCheck(name, image: image))
                #expect(shallow.stdout.split(separator: "\n").last == "no-cluster", "\(shallow.shownOutput)")
            } catch {
                _ = try? await host.run(cleanup, timeout: .seconds(60))
                throw error
            }
            _ = try await host.run(cleanup, timeout: .seconds(60))
        }
    }

    /// The container gone, its compose service mounting the volume above the data directory with
    /// PGDATA two folders down in it: the cluster is looked for at PGDATA's path there too, so it
    /// is found, never called "no PG_VERSION" with a restore offered. Diagnosis only (--dry-run).
    @Test func aGoneContainersVolumeMountedAboveTheDataDirectoryIsFoundWithItsCluster() async throws {
        let app = shellQuote(try Sandbox.require().app)
        let name = "botops-test-\(UUID().uuidString.prefix(8).lowercased())"
        // Inside the checkout, as compose.file must be: in logs/, which git ignores.
        let file = "logs/\(name)-compose.yml"
        try await HostScene.run({ scene in
            try await scene.sh("""
                cat > \(app)/\(file) <<'EOF'
                services:
                  ledger:
                    image: \(Self.image)
                    container_name: \(name)-db
                    network_mode: none
                    environment: {PGDATA: /var/lib/postgresql/data/pgdata}
                    volumes: [data:/var/lib/postgresql]
                volumes:
                  data: {name: \(name)-data}
                EOF
                docker volume create \(name)-data >/dev/null &&
                docker run --rm --network none -v \(name)-data:/v --entrypoint sh \(Self.image) -c 'mkdir -p /v/data/pgdata && echo 15 >/v/data/pgdata/PG_VERSION'
                """)
            try scene.replaceInConfig("database: {container: db,", with: "database: {container: \(name)-db,")
            try scene.replaceInConfig("file: docker-compose.aws.yml", with: "file: \(file)")
            let result = try await scene.botops(["recover", "--dry-run"])
            #expect(result.stdoutText.contains("the database container \(name)-db is missing"), "\(result.stdoutText)\n\(result.stderrText)")
            #expect(!result.stdoutText.contains("PG_VERSION") && !result.stdoutText.contains("could not tell"), "\(result.stdoutText)")
            #expect(try await scene.sh("docker ps -aq --filter name=\(name)") == "", "no container was created")
        }, cleanup: { scene in
            _ = try? await scene.sh("rm -f \(app)/\(file); docker rm -f \(name)-db >/dev/null 2>&1; docker volume rm \(name)-data >/dev/null 2>&1; true")
        })
    }
}
