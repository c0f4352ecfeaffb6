/*
 * play_window URL [SECONDS]: plays a stream through onair's C API into an X11 window of its
 * own (a render view), letterboxed (ONAIR_FILL_MODE_FIT) in a 640x640 window titled
 * "onair c window", for SECONDS (default 10). Prints `view alive N` before it stops
 * (1 while the view draws). Exit status 0 when the view was made and still drew at the end.
 *
 *   cc examples/c/play_window.c $(pkg-config --cflags --libs onair) -lX11 -o play_window
 *   ./play_window http://127.0.0.1:8080/live/c.flv 10
 */
#include <onair.h>

#include <X11/Xlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s URL [SECONDS]\n", argv[0]);
        return 2;
    }
    double seconds = argc > 2 ? atof(argv[2]) : 10.0;
    /* onair draws from its own thread with this connection. */
    XInitThreads();
    Display *display = XOpenDisplay(NULL);
    if (display == NULL) {
        fprintf(stderr, "no X display (set DISPLAY)\n");
        return 1;
    }
    int screen = DefaultScreen(display);
    Window window = XCreateSimpleWindow(display, RootWindow(display, screen), 0, 0, 640, 640, 0,
                                        BlackPixel(display, screen), BlackPixel(display, screen));
    XStoreName(display, window, "onair c window");
    XMapWindow(display, window);
    XSync(display, False);

    OnairRenderView *view = NULL;
    int code = onair_render_view_create_x11(display, screen, window, &view);
    if (code != ONAIR_OK) {
        fprintf(stderr, "render view: %s (%s)\n", onair_code_message(code),
                onair_last_error_message());
        return 1;
    }
    OnairPlayer *player = onair_player_create();
    code = onair_player_set_render_view(player, view);
    if (code == ONAIR_OK) {
        code = onair_player_set_render_fill_mode(player, ONAIR_FILL_MODE_FIT);
    }
    if (code == ONAIR_OK) {
        code = onair_player_start_play(player, argv[1]);
    }
    if (code != ONAIR_OK) {
        fprintf(stderr, "start: %s (%s)\n", onair_code_message(code), onair_last_error_message());
        onair_render_view_release(view);
        onair_player_release(player);
        return 1;
    }
    struct timespec t = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    nanosleep(&t, NULL);
    int alive = onair_render_view_is_alive(view);
    printf("view alive %d\n", alive);
    fflush(stdout);
    onair_player_stop_play(player);
    /* The player lets go of the view; releasing ours ends its thread: the window is ours again. */
    onair_player_set_render_view(player, NULL);
    onair_render_view_release(view);
    onair_player_release(player);
    XDestroyWindow(display, window);
    XCloseDisplay(display);
    return alive == 1 ? 0 : 1;
}
