// liteav_play URL [SECONDS]: a player written against LiteAV's C++ API (V2TXLivePlayer.hpp),
// built with -Wall -Wextra -Werror by tests/c_api.rs: counts I420 frames in
// onRenderVideoFrame and prints `frames N` last.
#include "V2TXLivePlayer.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

namespace {

class Counter : public liteav::V2TXLivePlayerObserver {
   public:
    std::atomic<long> frames{0};
    std::atomic<long> malformed{0};

    void onRenderVideoFrame(liteav::V2TXLivePlayer* /*player*/, const liteav::V2TXLiveVideoFrame* f) override {
        if (f->pixelFormat != liteav::V2TXLivePixelFormatI420 || f->length != f->width * f->height * 3 / 2) malformed++;
        frames++;
    }
    void onError(liteav::V2TXLivePlayer* /*player*/, int32_t code, const char* msg, void* /*extraInfo*/) override {
        std::fprintf(stderr, "error %d: %s\n", code, msg);
    }
};

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s URL [SECONDS]\n", argv[0]);
        return 2;
    }
    double seconds = argc > 2 ? std::atof(argv[2]) : 10.0;
    Counter counter;
    liteav::V2TXLivePlayer* player = createV2TXLivePlayer();
    player->setObserver(&counter);
    player->enableObserveVideoFrame(true, liteav::V2TXLivePixelFormatI420, liteav::V2TXLiveBufferTypeByteBuffer);
    int32_t code = player->startPlay(argv[1]);
    if (code != liteav::V2TXLIVE_OK) {
        std::fprintf(stderr, "startPlay: %d\n", code);
        releaseV2TXLivePlayer(player);
        return 1;
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    player->stopPlay();
    releaseV2TXLivePlayer(player);
    std::printf("malformed %ld\nframes %ld\n", counter.malformed.load(), counter.frames.load());
    return counter.frames > 0 && counter.malformed == 0 ? 0 : 1;
}
