/*
 * play_render URL [SECONDS]: plays a stream through onair's C API into a render callback.
 *
 * Asks for I420 frames (enable_observe_video_frame), counts them in on_render_video_frame,
 * checks each is the size the player announced, and after SECONDS (default 10) prints
 * `frames N` as its last line. Exit status 0 when at least one frame was rendered.
 *
 *   cc examples/c/play_render.c $(pkg-config --cflags --libs onair) -o play_render
 *   ./play_render http://127.0.0.1:8080/live/c.flv 10
 */
#include <onair.h>

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct counts {
    atomic_long frames;
    atomic_long bad;
    atomic_int width, height;
};

static void on_frame(void *user_data, const OnairVideoFrame *frame) {
    struct counts *c = user_data;
    long expected = (long)frame->width * frame->height * 3 / 2;
    if (frame->pixel_format != ONAIR_PIXEL_FORMAT_I420 || frame->data == NULL ||
        (long)frame->length < expected) {
        atomic_fetch_add(&c->bad, 1);
    }
    atomic_fetch_add(&c->frames, 1);
}

static void on_resolution(void *user_data, int32_t width, int32_t height) {
    struct counts *c = user_data;
    atomic_store(&c->width, width);
    atomic_store(&c->height, height);
    printf("resolution %dx%d\n", width, height);
    fflush(stdout);
}

static void on_error(void *user_data, int32_t code, const char *msg, const char *extra) {
    (void)user_data;
    (void)extra;
    fprintf(stderr, "error %d (%s): %s\n", code, onair_code_message(code), msg);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s URL [SECONDS]\n", argv[0]);
        return 2;
    }
    double seconds = argc > 2 ? atof(argv[2]) : 10.0;
    static struct counts counts;
    OnairPlayer *player = onair_player_create();
    OnairPlayerObserver observer;
    memset(&observer, 0, sizeof observer);
    observer.on_render_video_frame = on_frame;
    observer.on_video_resolution_changed = on_resolution;
    observer.on_error = on_error;
    onair_player_set_observer(player, &observer, &counts);
    int code = onair_player_enable_observe_video_frame(player, true, ONAIR_PIXEL_FORMAT_I420,
                                                       ONAIR_BUFFER_TYPE_BYTE_BUFFER);
    if (code == ONAIR_OK) {
        code = onair_player_start_play(player, argv[1]);
    }
    if (code != ONAIR_OK) {
        fprintf(stderr, "start: %s (%s)\n", onair_code_message(code), onair_last_error_message());
        onair_player_release(player);
        return 1;
    }
    struct timespec t = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    nanosleep(&t, NULL);
    onair_player_stop_play(player);
    onair_player_release(player);
    printf("size %dx%d, malformed %ld\n", atomic_load(&counts.width), atomic_load(&counts.height),
           atomic_load(&counts.bad));
    printf("frames %ld\n", atomic_load(&counts.frames));
    return atomic_load(&counts.frames) > 0 && atomic_load(&counts.bad) == 0 ? 0 : 1;
}
