"""Run under mpiexec -n 2 with "raise" or "kill": rank 1 fails while rank 0 waits in an all_reduce.

Rank 0 must not hang: mpiexec has to end the whole job (the test measures how fast).
"""
import os
import signal
import sys
import time

import tinygrad_cnn as tg
import tinygrad_cnn.distributed as dist


def main(mode: str) -> int:
    dist.init_process_group("mpi")
    t = tg.ones(4)
    dist.all_reduce(t)                          # both ranks are up
    if dist.get_rank() == 1:
        time.sleep(0.2)
        if mode == "raise":
            raise ValueError("rank 1 failed on purpose")
        os.kill(os.getpid(), signal.SIGKILL)
    dist.all_reduce(t)                          # rank 0 waits here for a partner that is gone
    print("rank 0 finished an all_reduce its partner never joined", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
