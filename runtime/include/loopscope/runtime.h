/* Everything of the loopscope runtime core in one include. */
#ifndef LOOPSCOPE_RUNTIME_H
#define LOOPSCOPE_RUNTIME_H

#include "loopscope/error.h"
#include "loopscope/fs.h"
#include "loopscope/handle.h"
#include "loopscope/immediate.h"
#include "loopscope/io.h"
#include "loopscope/loop.h"
#include "loopscope/microtask.h"
#include "loopscope/pool.h"
#include "loopscope/tcp.h"
#include "loopscope/timer.h"

#endif
