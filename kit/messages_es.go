package kit

var es = messages{
	Title:    "Cómo recuperar tus archivos",
	Subtitle: "Kit de viaje {kit}, creado el {date}",
	Calm: "Respira. Tus archivos están a salvo: están cifrados en esta unidad y nadie puede leerlos sin tu " +
		"frase de contraseña, tu clave de recuperación o la ayuda de uno de los colegas que " +
		"aparecen más abajo. Ve paso a paso. Lo único que puede causar daño es formatear la unidad: el aviso " +
		"de abajo explica cómo evitarlo.",
	Tampered: "Si la unidad estuvo fuera de tu vista (en una frontera, requisada, prestada), lee primero " +
		"«¿Alguien manipuló la unidad?», casi al final.",
	Need: "Necesitas: esta unidad; un ordenador con Windows, macOS o Linux; tu frase de contraseña o tu clave " +
		"de recuperación; y permiso para ejecutar programas como administrador en ese ordenador. No hace " +
		"falta conexión a internet.",

	EasyTitle:    "La forma fácil: doble clic en travelkit",
	Easy:         "Conecta la unidad y abre TRAVELKIT en el explorador de archivos (Explorador de archivos, Finder). En la carpeta bin, haz doble clic en el programa travelkit de este ordenador: amd64 es para la mayoría de los ordenadores con Windows o Linux y para los Mac con Intel; arm64, para los Mac con Apple silicon y otros ordenadores ARM.",
	EasyFallback: "Se abre tu navegador web y te guía paso a paso, en tu idioma. Pulsa el botón que pide permiso y escribe la contraseña de este ordenador, y después tu frase de contraseña. No hay que escribir ningún comando. Si no se abre nada, o el ordenador se niega a ejecutarlo, sigue los pasos para tu ordenador que vienen más abajo.",

	WarnTitle: "Nunca formatees la unidad",
	Warn: "La unidad tiene dos partes: una pequeña y visible llamada TRAVELKIT, con los programas y estas " +
		"instrucciones, y una grande y cifrada con tus copias de seguridad. Windows y macOS no pueden leer " +
		"la parte cifrada y te ofrecerán «inicializarla» o «formatearla». Responde siempre que no: " +
		"formatear destruye tus copias de seguridad.",
	WarnWindows: "Windows: «Debe formatear el disco antes de usarlo» → haz clic en Cancelar. " +
		"«Inicializar disco» → haz clic en Cancelar.",
	WarnMac: "macOS: «El disco insertado no es legible por este ordenador» → haz clic en Ignorar, nunca en Inicializar.",

	WinTitle:    "En Windows",
	WinPlug:     "Conecta la unidad. Si Windows ofrece formatear un disco, haz clic en Cancelar.",
	WinExplorer: "Abre el Explorador de archivos y busca la unidad llamada TRAVELKIT. Anota su letra, por ejemplo {drive}",
	WinAdmin: "Haz clic derecho en el botón Inicio y elige «Terminal (Administrador)» o «Windows PowerShell " +
		"(Administrador)». Haz clic en Sí cuando Windows pida permiso.",
	WinRun:        "Escribe este comando y pulsa Intro. Si la letra de TRAVELKIT no es {drive}, cámbiala en el comando:",
	WinRunARM:     "En un ordenador con procesador ARM (por ejemplo Snapdragon), usa este otro:",
	WinPassphrase: "Escribe tu frase de contraseña cuando te la pida y pulsa Intro. No aparece nada mientras escribes: es normal.",
	WinDone:       "Tus archivos aparecen en la carpeta {wintarget}, con los nombres de sus carpetas originales.",

	MacTitle: "En macOS",
	MacPlug:  "Conecta la unidad. Si macOS dice que el disco no es legible, haz clic en Ignorar.",
	MacChip: "Averigua qué procesador tiene este Mac: menú Apple → Acerca de este Mac. «Chip: Apple M…» " +
		"significa Apple silicon; «Procesador: … Intel» significa Intel.",
	MacTerminal: "Abre Terminal: pulsa Comando+Espacio, escribe Terminal y pulsa Intro.",
	MacRun:      "En un Mac con Apple silicon, escribe este comando y pulsa Intro:",
	MacRunIntel: "En un Mac con procesador Intel, escribe este otro:",
	MacPassword: "Escribe la contraseña de tu cuenta de usuario de este Mac (la pide sudo) y después tu frase de " +
		"contraseña. No aparece nada mientras escribes: es normal. Si macOS pregunta si Terminal puede " +
		"acceder a archivos de un volumen extraíble, haz clic en Permitir.",
	MacBlocked: "Si macOS dice que no se puede abrir «travelkit» o que Apple no pudo verificarlo, escribe este " +
		"comando y luego otra vez el comando de restauración (o, en el Finder, haz Control-clic en travelkit y elige Abrir):",
	MacDone: "Tus archivos aparecen en la carpeta Restored de tu carpeta de inicio.",

	LinuxTitle:    "En Linux",
	LinuxPlug:     "Conecta la unidad. Si el escritorio pide una contraseña para desbloquearla, haz clic en Cancelar: travelkit la abre por sí mismo.",
	LinuxTerminal: "Abre una terminal (a menudo con Ctrl+Alt+T).",
	LinuxRun:      "Escribe este comando y pulsa Intro:",
	LinuxRunARM:   "En un ordenador con procesador ARM, usa este otro:",
	LinuxPath:     "Si no encuentra la unidad ahí, cambia {linux} por {linux2} en el comando.",
	LinuxPassword: "Escribe tu contraseña de usuario (la pide sudo) y después tu frase de contraseña. No aparece nada mientras escribes: es normal.",
	LinuxDone:     "Tus archivos aparecen en la carpeta Restored de tu carpeta personal.",

	BootTitle: "O arrancar el ordenador desde esta unidad (PC y Mac con Intel)",
	BootIntro: "En un ordenador prestado, o en uno que ya no arranca, puedes iniciar el ordenador desde esta unidad en lugar de su propio sistema. Así tu frase de contraseña nunca se escribe en ese sistema, no se instala nada y no hacen falta derechos de administrador. El arranque seguro (Secure Boot) puede quedar activado.",
	BootKeys:  "Apaga el ordenador y conecta la unidad. Enciéndelo y pulsa enseguida, una y otra vez, la tecla del menú de arranque hasta que aparezca una lista de unidades; elige la unidad USB (puede llamarse «UEFI: USB» o llevar el nombre de la memoria). La tecla depende del fabricante:",
	BootSee:   "Aparece un menú de texto con el nombre de este kit, que indica si Secure Boot está activado. Muévete con las flechas e Intro, o escribe el número de una línea. Desbloquea el kit y elige Restaurar (tus archivos en este ordenador o en otra unidad) o Rescatar (guardar en el kit los archivos de este ordenador, por ejemplo de un portátil que ya no arranca). Al final elige Apagar: así el kit se cierra con seguridad.",
	BootNo:    "Los Mac con chip de Apple (M1, M2…) y los PC con procesador ARM no pueden arrancar desde esta unidad: sigue los pasos para macOS o Windows de más arriba.",

	NoProgram: "Este kit no trae programa para este sistema. Usa otro ordenador, o las herramientas estándar de Linux que se explican más abajo.",
	Chown:     "En macOS y Linux, si no puedes abrir los archivos restaurados, escribe:",

	UnlockTitle:   "Otras formas de desbloquear",
	RecoveryTitle: "Con la clave de recuperación",
	Recovery: "La clave de recuperación son 64 letras en 8 grupos separados por guiones. Escríbela cuando " +
		"travelkit pida la frase de contraseña.",
	RecoveryFile: "O guárdala en un archivo de texto llamado recovery-key.txt y añade esto al final del comando de restauración:",

	TPMTitle: "Con el chip de seguridad de tu portátil (TPM)",
	TPMNote:  "Este kit también está vinculado al TPM del portátil en el que se creó. Solo en ese portátil, añade esto al final del comando de restauración y escribe tu PIN si te lo pide. Tras una actualización del firmware o de Secure Boot puede dejar de funcionar: entonces usa tu frase de contraseña o tu clave de recuperación.",

	ColleagueTitle: "Con ayuda de un colega",
	Colleagues: "Estas personas guardan una copia sellada de la clave de recuperación de este kit: {names}. " +
		"Cada copia está también en la carpeta escrow de esta unidad. Solo la clave secreta de esa persona la abre.",
	ColleagueDecrypt: "Contacta con una de ellas. En un ordenador de su confianza, abre su copia con este comando " +
		"(con su archivo de clave en lugar de KEY-FILE); muestra la clave de recuperación:",
	ColleagueHandover: "Te da la clave en persona o por un canal seguro como Signal. Úsala como clave de recuperación, como se explica arriba.",
	ColleagueIdentity: "Si tienes contigo el archivo de clave de ese colega, añade en cambio esto al final del comando de restauración:",
	NoColleagues:      "Ningún colega guarda una copia de la clave de recuperación de este kit.",
	SharesColleagues: "Estas personas guardan cada una una parte sellada de la clave de recuperación de este kit: {names}. " +
		"Hacen falta {k} juntas: una parte sola no revela nada. Cada parte está también en la carpeta escrow " +
		"de esta unidad; solo la clave secreta de esa persona la abre.",
	SharesDecrypt: "Contacta con {k} de ellas. En un ordenador de su confianza, cada una abre su copia con este " +
		"comando (con su archivo de clave en lugar de KEY-FILE); muestra una línea, su parte:",
	SharesHandover: "Te dan sus líneas en persona o por un canal seguro como Signal. Guarda cada línea en un archivo " +
		"propio y añade esto al final del comando de restauración, una vez por archivo:",
	SharesStock: "Sin travelkit, en un ordenador Linux con el paquete ssss, este comando pide las {k} líneas y " +
		"muestra la clave de recuperación:",
	RevivalTitle: "Si ya ninguna clave abre la unidad",
	Revival: "Puede que la unidad se haya borrado a propósito antes de una frontera (travelkit erase): se " +
		"destruyeron sus claves, no tus copias de seguridad. Uno de los colegas nombrados arriba guarda una copia " +
		"de la cabecera de la unidad (luks-header.age, en su copia de la carpeta escrow). Cuando estés a salvo, " +
		"devuelve la vida a la unidad con estos comandos (en lugar de DRIVE: el nombre de la unidad, como en " +
		"«¿Manipularon la unidad?»); entonces tu antigua frase de contraseña vuelve a abrirla, con todas las copias:",
	RevivalLimits: "Solo funciona mientras se pueda contactar con ese colega y conserve la copia. La clave de " +
		"cifrado no cambia: quien haya guardado una copia antigua de la cabecera y una frase de contraseña de " +
		"entonces también puede abrir la unidad.",

	OffSiteTitle: "Si pierdes la unidad o te la quitan: la copia externa",
	OffSite: "La persona u organización que preparó este kit puede guardar una copia cifrada de sus copias de " +
		"seguridad en un servidor suyo. Pregúntale si existe y cuál es su ubicación (empieza por sftp:, s3: o rest:). " +
		"En cualquier ordenador, sin esta unidad, la clave de recuperación la abre: guarda la clave en un archivo de " +
		"texto llamado recovery-key.txt y ejecuta travelkit (de otro kit, o de quien preparó este) con la ubicación " +
		"en lugar de LOCATION:",
	OffSiteStock: "restic, un programa estándar para Windows, macOS y Linux, también abre la copia:",
	OffSiteKept: "Las copias de seguridad de este kit también se copian, cifradas, a un servidor de la persona u " +
		"organización que lo preparó. Pregúntale cuál es su ubicación (empieza por sftp:, s3: o rest:). " +
		"En cualquier ordenador, sin esta unidad, la clave de recuperación la abre: guarda la clave en un archivo de " +
		"texto llamado recovery-key.txt y ejecuta travelkit (de otro kit, o de quien preparó este) con la ubicación " +
		"en lugar de LOCATION:",

	StockTitle: "En Linux sin travelkit (herramientas estándar)",
	StockIntro: "Si travelkit no funciona, un ordenador Linux con cryptsetup y restic instalados puede restaurar " +
		"los archivos. El comando lsblk muestra las unidades: cambia /dev/sdX2 por la segunda partición de " +
		"esta unidad (por ejemplo /dev/sdb2).",
	StockPassphrase: "cryptsetup pide tu frase de contraseña; la clave de recuperación también sirve.",

	VerifyTitle: "¿Alguien manipuló la unidad?",
	VerifyWhy: "Alguien que tuvo la unidad podría haber cambiado los programas de su parte visible para robar tu " +
		"frase de contraseña. La parte cifrada guarda una lista de todos los archivos tal como se crearon. " +
		"Comprueba la unidad con un travelkit de confianza (de otro kit, o de quien hizo este), no con el de " +
		"esta unidad; usa el nombre de la unidad que muestra travelkit:",
	VerifyWhat: "travelkit pide tu frase de contraseña y nombra cada archivo cambiado, añadido o borrado. Si " +
		"informa de un problema, no ejecutes los programas de esta unidad: pide ayuda.",
	VerifyStock: "Con las herramientas estándar de Linux, después de los comandos cryptsetup open y mount de arriba:",

	SafetyTitle: "En un ordenador prestado",
	Safety: "Restaura solo lo que necesites. Al terminar, borra la carpeta Restored, vacía la Papelera y " +
		"expulsa la unidad antes de desconectarla.",
	HelpTitle: "Si te atascas",
	Help: "Apunta el mensaje de error exacto. Contacta con la persona u organización que te dio este kit, o con " +
		"uno de los colegas nombrados arriba, y dile el nombre del kit: {kit}.",
	OtherLangs: "Estas instrucciones en otros idiomas, en esta unidad:",
	Footer:     "Hecho con travelkit para el kit {kit} el {date}.",
}
