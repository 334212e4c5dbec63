package io.interchange.bench;

import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.profile.InternalProfiler;
import org.openjdk.jmh.results.AggregationPolicy;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.ScalarResult;

import java.lang.management.ManagementFactory;
import java.util.Collection;
import java.util.List;

/**
 * {@code -prof io.interchange.bench.CpuTimeProfiler}: CPU time the benchmark JVM used per operation
 * ({@code cpu.time.norm}, ns/op), all its threads included (GC and JIT too), normalised like
 * {@code gc.alloc.rate.norm}.
 *
 * <p>Throughput falls when another process takes the CPUs; CPU time per operation hardly moves, so on a shared
 * machine it is the steadier measure of what an operation costs. It counts this JVM only: for the PostgreSQL
 * benchmarks the server's work and the waits for the disk are not in it, and ops/s remains the measure there.
 */
public final class CpuTimeProfiler implements InternalProfiler {

    private final com.sun.management.OperatingSystemMXBean os =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private long before;

    @Override
    public String getDescription() {
        return "CPU time of the benchmark JVM per operation (steadier than ops/s on a shared machine)";
    }

    @Override
    public void beforeIteration(BenchmarkParams benchmarkParams, IterationParams iterationParams) {
        before = os.getProcessCpuTime();
    }

    @Override
    public Collection<? extends Result> afterIteration(BenchmarkParams benchmarkParams, IterationParams iterationParams,
                                                       IterationResult result) {
        long used = os.getProcessCpuTime() - before;
        long ops = result.getMetadata().getAllOps();
        double perOp = ops == 0 || before < 0 ? Double.NaN : (double) used / ops;
        return List.of(new ScalarResult("cpu.time.norm", perOp, "ns/op", AggregationPolicy.AVG));
    }
}
