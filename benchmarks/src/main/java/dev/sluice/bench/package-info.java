/** JMH micro-benchmarks of hot paths and the serving load generator; never needed at run time. */
package dev.sluice.bench;
