from llama_vision.cli import main

raise SystemExit(main())
